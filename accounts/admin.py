from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import closure, members, security
from .models import Branch, Citizen, Membership, Passkey, SecurityRecord, TwoFactor

# Memberships changed here reach open pages as the members page's changes do: the
# person's sockets keep only what they may still read, the secretaries' read counts
# move (accounts.members.membership_changed).


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

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        before = {f.instance.pk: (f.initial.get("user"), f.initial.get("branch")) for f in formset.forms
                  if f.instance.pk and f.has_changed()}
        super().save_formset(request, form, formset, change)
        touched = [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects), *formset.deleted_objects]
        _changed({(m.user_id, m.branch_id) for m in touched} | {p for p in before.values() if all(p)})


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role", "since"]
    list_filter = ["role", "branch"]
    search_fields = ["user__username", "user__first_name", "branch__name"]
    autocomplete_fields = ["user", "branch"]

    def save_model(self, request, obj, form, change):
        before = (form.initial.get("user"), form.initial.get("branch")) if change else (None, None)
        super().save_model(request, obj, form, change)
        _changed({(obj.user_id, obj.branch_id)} | ({before} if all(before) else set()))

    def delete_model(self, request, obj):
        pair = (obj.user_id, obj.branch_id)
        super().delete_model(request, obj)
        _changed({pair})

    def delete_queryset(self, request, queryset):
        pairs = set(queryset.values_list("user_id", "branch_id"))
        super().delete_queryset(request, queryset)
        _changed(pairs)


def _changed(pairs: set[tuple[int, int]]) -> None:
    for user_id, branch_id in pairs:
        members.membership_changed(user_id=user_id, branch_id=branch_id)


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "contact", "created_at", "last_seen_at"]
    search_fields = ["display_name", "contact"]
    readonly_fields = ["created_at", "last_seen_at"]


@admin.register(TwoFactor)
class TwoFactorAdmin(admin.ModelAdmin):
    """Deleting a row turns two-step verification off, for someone who lost both their
    phone and their recovery codes (once you are sure it is them)."""

    list_display = ["user", "confirmed_at", "created_at"]
    search_fields = ["user__username"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # set up by the member, on 我的账号

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        user_id = obj.user_id  # the row's key, which the delete clears
        super().delete_model(request, obj)
        _two_factor_reset([user_id])

    def delete_queryset(self, request, queryset):
        users = list(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        _two_factor_reset(users)


def _two_factor_reset(user_ids) -> None:
    for user in get_user_model().objects.filter(pk__in=user_ids):
        security.notify(user, security.TWO_FACTOR_OFF, by="admin")


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """Deleting one takes a passkey away from its member (a lost phone, a key someone
    else may hold); they are told (accounts/security.py). Members add their own."""

    list_display = ["user", "name", "created_at", "last_used_at", "backed_up"]
    search_fields = ["user__username", "name"]
    fields = ["user", "name", "created_at", "last_used_at", "backed_up", "sign_count"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        user, name = obj.user, obj.name
        super().delete_model(request, obj)
        security.notify(user, security.PASSKEY_REMOVED, by="admin", name=name)

    def delete_queryset(self, request, queryset):
        removed = list(queryset.select_related("user"))
        super().delete_queryset(request, queryset)
        for passkey in removed:
            security.notify(passkey.user, security.PASSKEY_REMOVED, by="admin", name=passkey.name)


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserAdmin(auth_admin.UserAdmin):
    """Django's, telling the person (accounts/security.py) when an administrator sets a
    new password for them or changes their e-mail address; and closing accounts
    (注销账号, accounts/closure.py) as an action on the list."""

    actions = ["close_accounts"]

    @admin.action(description=_("Close the selected accounts (注销)"))
    def close_accounts(self, request, queryset):
        closed, refused = 0, []
        for user in queryset.filter(is_active=True):
            why = closure.refusal(user, by=request.user)
            if why:
                refused.append(f"{user.get_username()}: {why}")
                continue
            closure.close_account(user, by=request.user)
            closed += 1
        if closed:
            self.message_user(request, ngettext("%(count)d account closed.", "%(count)d accounts closed.", closed)
                              % {"count": closed}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def save_model(self, request, obj, form, change):
        before = form.initial.get("email") or ""
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data and before != obj.email:
            security.notify(obj, security.EMAIL_CHANGED, by="admin", old_email=before, email=obj.email)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            if user is not None:
                security.notify(user, security.PASSWORD_CHANGED, by="admin")
        return response


@admin.register(SecurityRecord)
class SecurityRecordAdmin(admin.ModelAdmin):
    """安全记录: logins, wrong passwords or codes and security notices of every account,
    for looking into a report of misuse. Written by the site only; kept 90 days."""

    list_display = ["at", "user", "kind", "what", "where"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    date_hierarchy = "at"
    fields = ["at", "user", "kind", "what", "where", "data"]
    readonly_fields = fields

    @admin.display(description=_("what"))
    def what(self, obj) -> str:
        return security.text(obj.kind, obj.data)[0]

    @admin.display(description=_("where"))
    def where(self, obj) -> str:
        return security.where(obj.data)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
