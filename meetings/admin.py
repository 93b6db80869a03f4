from django.contrib import admin

from .models import AgendaItem, CalendarFeed, CommitteeMember, Exclusion, LeaveRequest, Meeting


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(admin.ModelAdmin):
    """Committee seats decide who a committee meeting (支委会) expects."""

    list_display = ["user", "branch", "title"]
    list_filter = ["branch"]
    autocomplete_fields = ["user", "branch"]


class AgendaInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fields = ["position", "title"]
    readonly_fields = ["position", "title"]
    can_delete = False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    """Read-only: meetings change through the app so every change is on the meeting's stream."""

    list_display = ["title", "branch", "kind", "starts_at", "status"]
    list_filter = ["kind", "status", "branch"]
    search_fields = ["title"]
    inlines = [AgendaInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LeaveRequest)
class LeaveRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "meeting", "status", "submitted_at", "decided_by"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ["user", "meeting", "reason", "approved_by", "approved_at"]
    list_filter = ["reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """日历订阅 addresses (calendar_feed.py): who has one and when calendars last fetched it;
    never the token. Deleting one stops the address (a member made it on a phone now lost)."""

    list_display = ["user", "created_at", "last_used_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["user", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

