from django.contrib import admin

from .models import Event, Stream


class ReadOnly(admin.ModelAdmin):
    """The log is written only by actions; the admin may look, not touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Stream)
class StreamAdmin(ReadOnly):
    list_display = ["key", "last_seq", "trimmed_through", "created_at"]
    search_fields = ["key"]


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ["stream", "seq", "type", "actor", "created_at"]
    list_filter = ["type"]
    search_fields = ["stream__key"]
