from django.contrib import admin

from .models import Branch, Citizen, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "time_zone"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role", "since"]
    list_filter = ["role", "branch"]
    search_fields = ["user__username", "user__first_name", "branch__name"]
    autocomplete_fields = ["user", "branch"]


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "contact", "created_at", "last_seen_at"]
    search_fields = ["display_name", "contact"]
    readonly_fields = ["created_at", "last_seen_at"]
