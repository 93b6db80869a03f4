from django.contrib import admin

from .models import Announcement, Attachment


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ["name", "size", "content_type", "uploaded_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Read-only: announcements are posted through the app so their event is logged."""

    inlines = [AttachmentInline]
    list_display = ["title", "branch", "author", "created_at"]
    list_filter = ["branch"]
    search_fields = ["title", "body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
