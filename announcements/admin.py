from django.contrib import admin

from .models import Announcement


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Read-only: announcements are posted through the app so their event is logged."""

    list_display = ["title", "branch", "author", "created_at"]
    list_filter = ["branch"]
    search_fields = ["title", "body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
