from __future__ import annotations

import html
import json
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.html import strip_tags
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext, pgettext
from django.views import defaults
from django.views import i18n as i18n_views
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import (
    appearance,
    closure,
    devices,
    language,
    notification_mail,
    party_dates,
    passkeys,
    personal_data,
    security,
    two_factor,
    unsubscribe,
)
from accounts.actions import CITIZEN_NAME_MAX, create_citizen, end_other_sessions
from accounts.api import request_identity
from accounts.devices import record_session
from accounts.middleware import forget_citizen_cookie, set_citizen_cookie
from accounts.models import MailSettings, Membership
from accounts.selectors import (
    ROLE_ORDER,
    branches_below,
    can_manage_branch,
    can_read_branch,
    secretary_reach,
)
from accounts.streams import inbox_stream
from accounts.throttle import is_throttled
from accounts.throttle import refusal_text as throttle_refusal
from announcements import attachments as attachment_rules
from announcements import scheduling as announcement_scheduling
from announcements import selectors as announcement_selectors
from announcements.actions import (
    BODY_MAX,
    TITLE_MAX,
    read_announcements,
    receipts_stream,
    remind_unread,
    stream_for,
)
from forum import selectors as forum_selectors
from meetings import actions as meeting_actions
from meetings import calendar_feed
from meetings.models import CalendarFeed
from moderation.actions import queue_stream
from realtime.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from realtime.models import Stream
from server.spreadsheets import csv_download

from . import login_steps, overview, passkey_views, two_factor_views, weekly
from .context_processors import readable_branches
from .forum_text import preview_strings
from .forum_views import branch_sections, member_branch, register_rows

# Demo accounts the login page may mention, and how long one check of them is trusted.
DEMO_USERNAMES = ("shuji", "dangyuan")
DEMO_CHECK_SECONDS = 300
_demo_check: dict[str, float | bool | None] = {"at": None, "active": False}


def demo_accounts_active() -> bool:
    """True while the demo account still has the published demo password.

    Then the password is public anyway (it is in the repository), so saying it on the
    login page is honest; once someone changes it or the demo data is absent, the hint
    disappears. One password hash per five minutes at most, not one per page view.
    """
    now = time.monotonic()
    checked_at = _demo_check["at"]
    if checked_at is not None and now - float(checked_at) < DEMO_CHECK_SECONDS:
        return bool(_demo_check["active"])
    from accounts.demo import DEMO_PASSWORD

    user = get_user_model().objects.filter(username=DEMO_USERNAMES[0], is_active=True).first()
    active = user is not None and user.check_password(DEMO_PASSWORD)
    _demo_check.update(at=now, active=active)
    return active


DIGEST_HOURS = (6, 7, 8, 9, 12, 17, 18, 19, 20, 21)  # on the member's branch's clock


class EmailForm(forms.Form):
    email = forms.EmailField(label=_lazy("E-mail address"), required=False, max_length=254)
    announcements = forms.BooleanField(label=_lazy("E-mail me new announcements of my branches"), required=False)
    digest = forms.BooleanField(label=_lazy("Once a day, e-mail me what I have not read yet (a daily digest)"),
                                required=False)
    digest_hour = forms.TypedChoiceField(label=_lazy("Send it at"), coerce=int, initial=8, required=False,
                                         empty_value=8, choices=[(hour, f"{hour:02d}:00") for hour in DIGEST_HOURS])
    # 提醒邮件 (accounts/notification_mail.py), by kind; the MailSettings fields of the same names
    notify_mentions = forms.BooleanField(label=_lazy("Someone mentions me"), required=False)
    notify_meetings = forms.BooleanField(label=_lazy("Meetings, and leave from them"), required=False)
    notify_posts = forms.BooleanField(label=_lazy("Moderators' decisions on my posts, and my scheduled announcements"),
                                      required=False)
    notify_discussions = forms.BooleanField(label=_lazy("Topic discussions opening"), required=False)
    notify_membership = forms.BooleanField(
        label=_lazy("My party standing: made a full member, the probationary period extended, the reminder to ask "
                    "to become a full member"), required=False)
    # 每周待办 (frontend/weekly.py), offered to those who help run a branch
    weekly = forms.BooleanField(label=_lazy("Once a week, e-mail me what waits on me (a weekly summary)"),
                                required=False)
    weekly_day = forms.TypedChoiceField(label=_lazy("Send it on"), coerce=int, initial=0, required=False, empty_value=0,
                                        choices=sorted(WEEKDAYS.items()))

    KEPT = ("announcements", "digest", "digest_hour", *notification_mail.KINDS, "weekly", "weekly_day")


class AccountView(auth_views.PasswordChangeView):
    """我的账号: who I am, my branches and roles, my e-mail address (for reset links),
    changing my password, and where I am signed in (accounts/devices.py), with signing
    out of any of those browsers or of all but this one. A password change logs this
    person out everywhere else too (their other devices' sockets close as well). Each
    form posts here, named by `form`."""

    template_name = "frontend/account.html"

    def get_success_url(self) -> str:
        return reverse("account")

    def post(self, request, *args, **kwargs):
        which = request.POST.get("form")
        if which == "end-device":
            device = request.POST.get("device", "")
            if device.isdigit() and len(device) < 19 and devices.end_device(
                    request.user, int(device), request.session.session_key):
                messages.success(request, _("That browser is signed out."))
            else:
                messages.error(request, _("That browser is no longer signed in."))
            return redirect(f"{reverse('account')}#devices")
        if which == "end-others":
            ended = end_other_sessions(request.user, request.session.session_key)
            messages.success(request, ngettext(
                "Signed out on %(count)d other browser.",
                "Signed out on %(count)d other browsers.",
                ended,
            ) % {"count": ended} if ended else _("You are signed in nowhere else."))
            return redirect(f"{reverse('account')}#devices")
        if (which or "").startswith("2fa-"):
            return two_factor_views.account_post(request, which)
        if which == "passkey-remove":
            return passkey_views.account_post(request)
        if which == "my-data":
            return self._my_data(request)
        if which == "close-account":
            return self._close_account(request)
        if which in ("calendar-new", "calendar-stop", "calendar-below"):
            return self._calendar(request, which)
        if which == "appearance":
            if appearance.choose(request.user, theme=request.POST.get("theme", ""),
                                 text_size=request.POST.get("text_size", "")):
                messages.success(request, _("Your pages' appearance has been saved."))
            else:
                messages.error(request, _("Choose one of the appearances offered."))
            return redirect(f"{reverse('account')}#appearance")
        if which != "email":
            if is_throttled(request.user.get_username()):  # the password form, after too many wrong ones
                messages.error(request, throttle_refusal())
                return redirect("account")
            return super().post(request, *args, **kwargs)
        email_form = EmailForm(request.POST)
        if not email_form.is_valid():
            # The password form stays empty (not bound to this form's fields).
            password_form = self.get_form_class()(user=request.user)
            return self.render_to_response(self.get_context_data(email_form=email_form, form=password_form))
        before = request.user.email
        with transaction.atomic():
            request.user.email = email_form.cleaned_data["email"]
            request.user.save(update_fields=["email"])
            if before != request.user.email:  # told to the old address as well
                security.notify(request.user, security.EMAIL_CHANGED, request=request,
                                old_email=before, email=request.user.email)
            kept = EmailForm.KEPT if weekly.runs_branch(request.user) else tuple(
                name for name in EmailForm.KEPT if not name.startswith("weekly"))  # not offered: left as it was
            MailSettings.objects.update_or_create(user=request.user, defaults={
                name: email_form.cleaned_data[name] for name in kept})
        messages.success(request, _("Your e-mail address has been saved.") if request.user.email
                         else _("Your e-mail address has been removed."))
        return redirect("account")

    def _calendar(self, request, which: str):
        """日历订阅 (meetings/calendar_feed.py): a new address for the member's meetings
        (one they had stops working), or none."""
        if which == "calendar-below":
            wanted = request.POST.get("below") == "on" and bool(calendar_feed.branches_overseen(request.user))
            if CalendarFeed.objects.filter(user=request.user).update(below=wanted):
                messages.success(request, _("Your calendar will have the meetings of the branches below yours too.")
                                 if wanted else _("Your calendar will have your own meetings only."))
        elif which == "calendar-new":
            replaced = CalendarFeed.objects.filter(user=request.user).exists()
            calendar_feed.make(request.user, request=request)
            messages.success(request, _("A new address for your calendar is ready below; the old one no longer works.")
                             if replaced else _("The address for your calendar is ready below."))
        elif calendar_feed.stop(request.user):
            messages.success(request, _("The address for your calendar no longer works."))
        return redirect(f"{reverse('account')}#calendar")

    def _calendar_context(self) -> dict | None:
        found = CalendarFeed.objects.filter(user=self.request.user).first()
        if found is None:
            return None
        token = calendar_feed.token_of(found)
        url = self.request.build_absolute_uri(calendar_feed.path(token)) if token else ""
        return {"url": url, "webcal": "webcal" + url[url.index(":"):] if url else "",
                "created_at": found.created_at, "last_used_at": found.last_used_at, "below": found.below,
                "oversees": bool(calendar_feed.branches_overseen(self.request.user))}

    def _my_data(self, request):
        """我的数据 (accounts/personal_data.py): the member's copy, after their password."""
        refused = two_factor_views.password_refusal(request, request.user, request.POST.get("password", ""))
        if refused:
            form = self.get_form_class()(user=request.user)
            return self.render_to_response(self.get_context_data(form=form, my_data_error=refused[0]), status=400)
        security.notify(request.user, security.DATA_EXPORTED, request=request)
        body = json.dumps(personal_data.collect(request.user), ensure_ascii=False, indent=1, cls=DjangoJSONEncoder)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        day = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = content_disposition_header(
            True, f"branchline-{request.user.get_username()}-{day}.json")
        response["Cache-Control"] = "no-store"
        return response

    def _close_account(self, request):
        """注销账号 (accounts/closure.py), after the password and a tick."""
        refused = two_factor_views.password_refusal(request, request.user, request.POST.get("password", ""))
        if not refused and request.POST.get("understood") != "yes":
            refused = (_("Tick the box to say you understand that this cannot be undone."),)
        if not refused and (why := closure.refusal(request.user)):
            refused = (why,)
        if refused:
            form = self.get_form_class()(user=request.user)
            return self.render_to_response(self.get_context_data(form=form, close_error=refused[0]), status=400)
        name = request.user.get_full_name() or request.user.get_username()
        closure.close_account(request.user, request=request)
        auth_logout(request)
        return render(request, "frontend/account_closed.html", {"name": name})

    def form_invalid(self, form):
        # A wrong current password counts as a failed login of the username, and is in
        # the security log: someone holding a stolen session must not guess on freely.
        if "old_password" in form.errors:
            two_factor_views.count_failure(self.request, self.request.user, step="password")
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session (update_session_auth_hash)
        ended = end_other_sessions(self.request.user, self.request.session.session_key)
        record_session(self.request, self.request.user)  # this one, under its new key
        security.notify(self.request.user, security.PASSWORD_CHANGED, request=self.request)
        text = _("Your password has been changed.")
        if ended:
            text += " " + ngettext(
                "You were logged out of %(count)d other session.",
                "You were logged out of %(count)d other sessions.",
                ended,
            ) % {"count": ended}
        messages.success(self.request, text)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = Membership.objects.filter(user=self.request.user).select_related("branch").order_by("branch_id")
        roles = {}
        for m in sorted(rows, key=lambda m: (m.branch_id, ROLE_ORDER.index(m.role))):
            roles.setdefault(m.branch, []).append(m.get_role_display())
        context["memberships"] = list(roles.items())
        wants = MailSettings.objects.filter(user=self.request.user).first() or MailSettings()  # none: the defaults
        context.setdefault("email_form", EmailForm(initial={
            "email": self.request.user.email, **{name: getattr(wants, name) for name in EmailForm.KEPT}}))
        context["notify_fields"] = [context["email_form"][name] for name in notification_mail.KINDS]
        context["notify_minutes"] = notification_mail.delay_minutes()
        context["runs_branch"] = weekly.runs_branch(self.request.user)
        context["themes"] = appearance.Theme.choices
        context["text_sizes"] = appearance.TextSize.choices
        context["sends_email"] = settings.SENDS_EMAIL
        context["devices"] = devices.devices_of(self.request.user, self.request.session.session_key)
        branches = readable_branches(self.request.user)
        context["zone"] = branches[0].time_zone if branches else settings.TIME_ZONE
        context.update(two_factor_views.account_context(self.request))
        context["passkeys"] = passkeys.of(self.request.user)
        context["passkeys_usable"] = passkeys.usable_at(self.request)
        context["security_log"] = security.log_of(self.request.user, limit=ACCOUNT_LOG_ROWS)
        context["log_days"] = security.LOG_DAYS
        context["close_refusal"] = closure.refusal(self.request.user)
        context["calendar"] = self._calendar_context()
        return context


ACCOUNT_LOG_ROWS = 8  # the newest of the security log on 我的账号; the rest on its own page


@login_required
def security_log(request):
    """安全记录: the member's security log, newest first, a page at a time."""
    before_raw = request.GET.get("before", "")
    before = int(before_raw) if before_raw.isdigit() and len(before_raw) < 19 else None
    rows = security.log_of(request.user, before=before)
    branches = readable_branches(request.user)
    return render(request, "frontend/security_log.html", {
        "rows": rows, "before": before, "log_days": security.LOG_DAYS,
        "older": rows[-1]["id"] if len(rows) >= security.LOG_PAGE else None,
        "zone": branches[0].time_zone if branches else settings.TIME_ZONE,
    })


class LoginForm(AuthenticationForm):
    """Says so when the backend refused a throttled username (accounts/throttle.py),
    instead of the usual "wrong username or password", so its owner knows to wait."""

    # 公用电脑: the party office's or a service centre's computer (login_steps.py).
    public = forms.BooleanField(label=_lazy("This is a shared computer: log me out when the browser closes"),
                                required=False)

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "login_throttled", False):
                raise ValidationError(throttle_refusal(), code="throttled") from None
            raise


class LoginView(auth_views.LoginView):
    template_name = "frontend/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        public = form.cleaned_data.get("public", False)
        if two_factor.code_needed(self.request, user):  # the password was right; now the code
            return two_factor_views.begin(self.request, user, self.get_success_url(), public=public)
        first = user.last_login is None  # read before the login sets it
        response = super().form_valid(form)
        login_steps.after_login(self.request, response, user, first=first, how="password", public=public)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["demo_usernames"] = DEMO_USERNAMES
        context["passkeys_usable"] = passkeys.usable_at(self.request)
        if demo_accounts_active():
            from accounts.demo import DEMO_PASSWORD

            context["demo_password"] = DEMO_PASSWORD
        return context


@csrf_exempt  # the link's signed token is the permission; mail programs post without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_announcements(request, token: str):
    """退订 (accounts/unsubscribe.py): the link in an announcement e-mail, a daily digest,
    a mail of unread notifications or a weekly summary.
    Opening it asks; the button, or a mail program's one-click post, stops those mails."""
    found = unsubscribe.user_for(token)
    user = get_user_model().objects.filter(pk=found[0], is_active=True).first() if found else None
    if user is None:
        return render(request, "frontend/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        unsubscribe.stop(user.pk, found[1])
    return render(request, "frontend/unsubscribe.html", {
        "username": user.get_username(), "done": request.method == "POST", "what": found[1]})


def set_language(request):
    """The header's language switch (Django's set_language), which for a logged-in
    member also keeps the choice on their account: their other browsers take it up at
    login, and their mail is written in it."""
    response = i18n_views.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        language.choose(request.user, request.POST.get(i18n_views.LANGUAGE_QUERY_PARAMETER, ""))
    return response


@require_POST
def set_text_size(request):
    """The header's 大字 button (accounts/appearance.py): kept on a member's account, like
    the language, or in this browser's cookie for a visitor or citizen; then back to
    the page it was pressed on."""
    size = request.POST.get("text_size", "")
    if size not in appearance.TextSize.values:
        return render(request, "400.html", status=400)
    response = redirect(_safe_next(request, "/"))
    if request.user.is_authenticated:
        appearance.choose_text_size(request.user, size)
    elif size:
        response.set_cookie(appearance.TEXT_SIZE_COOKIE, size, max_age=appearance.TEXT_SIZE_COOKIE_AGE,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    else:
        response.delete_cookie(appearance.TEXT_SIZE_COOKIE, samesite="Lax")
    return response


def home(request):
    if request.user.is_authenticated:
        readable = readable_branches(request.user)
        if readable:
            return redirect("branch-overview", branch_id=readable[0].pk)
    # Visitors (citizens among them) find the boards they may read, and where they may write.
    return render(request, "frontend/home.html", {"public_boards": forum_selectors.public_boards()})


def _api_error(code: str, message: str, status: int):
    return JsonResponse({"code": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    """handler404: the HTTP API answers in its own error shape (docs/protocol.md), pages with 404.html."""
    if _is_api(request):
        return _api_error("not_found", _("There is no such API path."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: as handler404; the page (500.html) needs no request context."""
    if _is_api(request):
        return _api_error("internal", _("Something went wrong on the server; nothing was changed."), 500)
    return defaults.server_error(request)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: a form refused by the CSRF check (opened before a login or a
    logout, or long ago), said in the page's language with a way back."""
    from django.middleware.csrf import REASON_NO_CSRF_COOKIE

    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else ""
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "back": back}
    return render(request, "403_csrf.html", context, status=403)


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_http_methods(["GET", "POST"])
def citizen_start(request):
    """Take part without an account (群众留言): a citizen identity for this browser.

    The token goes into an HttpOnly cookie and is never shown: the browser is the key.
    A member who is logged in, or a visitor who is a citizen already, is sent on.
    """
    target = _safe_next(request, reverse("home"))
    if request.user.is_authenticated or request.citizen:
        return redirect(target)
    error = form_error = ""
    name = ""
    status = 200
    if request.method == "POST":
        name = request.POST.get("display_name", "")
        try:
            _citizen, token = create_citizen(display_name=name)
        except Invalid as exc:
            error, status = exc.message, exc.http_status
        except RateLimited as exc:
            form_error, status = exc.message, exc.http_status
        else:
            response = redirect(target)
            set_citizen_cookie(response, request, token)
            return response
    return render(
        request,
        "frontend/citizen_start.html",
        {"next": target, "display_name": name, "error": error, "form_error": form_error, "name_max": CITIZEN_NAME_MAX},
        status=status,
    )


@require_POST
def citizen_leave(request):
    """"Forget me": this browser stops being that citizen (their posts stay)."""
    response = redirect(_safe_next(request, reverse("home")))
    forget_citizen_cookie(response)
    return response


def announcement_strings() -> dict[str, str]:
    """Strings announcements.js shows, in the active language."""
    return {
        "unread": _("%(count)s unread"),
        "all_read": _("All read"),
        "new": _("New"),
        "empty": _("No announcements yet."),
        "posted_live": _("New announcement: %(title)s"),
        "sent_from": _("From %(name)s"),
        "sent_to": _("Also sent to: %(names)s"),
        "reader_in": _("%(name)s (%(branches)s)"),
        "publishing": _("Publishing…"),
        "queued": _("You are offline. It will be published as soon as the connection is back."),
        "published": _("Published."),
        "published_replayed": _("Published (confirmed after reconnecting)."),
        "mark_read_failed": _("Could not mark as read:"),
        "publish_failed": _("Not published:"),
        "load_older_failed": _("Could not load older announcements:"),
        "fix_fields": _("Please correct the highlighted field."),
        "nobody_here": _("Only you"),
        "people_here": _("%(count)s people"),
        "log_in": _("Log in"),
        # Secretaries' corrections
        "edited": _("edited %(time)s"),
        "edit": _("Edit"),
        "withdraw": _("Withdraw"),
        "confirm_withdraw": _("Withdraw it for everyone?"),
        "confirm_withdraw_below": _("Withdraw it here and in the branches below?"),
        "corrects_below": _("A correction here corrects it in the branches below as well."),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "title": _("Title"),
        "text": _("Text"),
        "saving": _("Saving…"),
        "queued_change": _("You are offline. It will be sent as soon as the connection is back."),
        "edit_failed": _("Not saved:"),
        "withdraw_failed": _("Not withdrawn:"),
        "edited_live": _("Announcement corrected: %(title)s"),
        "withdrawn_live": _("An announcement was withdrawn."),
        "pinned": _("Pinned"),
        "pinned_until": _("Pinned until %(time)s"),
        "pin": _("Pin"),
        "pin_for": _("Pinned for how long"),
        "pin_forever": _("Until unpinned"),
        "pin_day": _("For a day"),
        "pin_days": _("For %(days)s days"),
        "pin_week": _("For a week"),
        "pin_month": _("For a month"),
        "unpin": _("Unpin"),
        "pin_failed": _("Not changed:"),
        "pinned_live": _("Pinned: %(title)s"),
        "unpinned_live": _("No longer pinned: %(title)s"),
        # Secretaries: who has read it
        "receipt": _("%(read)s/%(of)s read"),
        "readers": _("Who has read it"),
        "read_by": _("Read (%(count)s)"),
        "not_read_by": _("Not yet read (%(count)s)"),
        "nobody": _("Nobody"),
        "refresh": _("Refresh"),
        "loading": _("Loading…"),
        "readers_failed": _("Could not load who has read it:"),
        "preview": preview_strings(),
        "receipt_hint": _("A member has read it once it has been on their screen for a moment, they opened it, "
                          "or they pressed “Mark all read” after it was published."),
        "remind": _("Remind those who have not read it"),
        "reminding": _("Reminding…"),
        "reminded": reminder_sent(),
        "reminded_at": _("Last reminded %(time)s."),
        "remind_failed": _("Not reminded:"),
        # 定时发布: announcements scheduled for later
        "publish": _("Publish"),
        "schedule": _("Schedule"),
        "scheduling": _("Scheduling…"),
        "scheduled_ok": _("Scheduled: it will be published %(time)s."),
        "scheduled_replayed": _("Scheduled (confirmed after reconnecting)."),
        "schedule_failed": _("Not scheduled:"),
        "publish_at_required": _("Choose when to publish it."),
        "publish_at": _("Publish at"),
        "publishes_at": _("To be published %(time)s"),
        "written_by": _("Written by %(name)s"),
        "not_published": _("Not published: %(problem)s"),
        "publish_now": _("Publish now"),
        "confirm_publish_now": _("Publish it now for everyone?"),
        "cancel_scheduled": _("Cancel it"),
        "confirm_cancel_scheduled": _("Cancel it and delete its files?"),
        "change": _("Change"),
        "scheduled_action_failed": _("Not done:"),
        # Attachments
        "attachments": _("Attachments"),
        "add_files": _("Add files…"),
        "size_bytes": _("%(size)s bytes"),
        "uploading": _("Uploading… %(done)s"),  # done: "45%"
        "uploaded": _("Ready"),
        "upload_failed": _("Not uploaded:"),
        "remove": _("Remove"),
        "too_many_files": _("At most %(max)s files can be attached."),
        "file_too_large": _("The file is larger than %(mb)s MB."),
        "uploads_pending": _("Wait until the files have finished uploading, or remove them."),
        "uploads_failed": _("Remove the files that could not be uploaded, or add them again."),
    }


@login_required
def announcement(request, announcement_id: int):
    """One announcement, to link to (mail, a shared link). A withdrawn one says so (410)."""
    from announcements.models import Announcement

    a = Announcement.objects.select_related("branch", "author", "sent_from").filter(pk=announcement_id).first()
    if a is None or not can_read_branch(request_identity(request), a.branch_id):
        raise Http404("no such announcement")
    withdrawn = a.withdrawn_at is not None
    identity = request_identity(request)
    if not withdrawn and identity.is_user and a.author_id != identity.user_id:
        # Opening it (from the list, a notification, the mail) is reading it: 已读.
        read_announcements(identity=identity, branch_id=a.branch_id, announcement_ids=[a.pk])
    readers, copies = None, []
    if not withdrawn and can_manage_branch(identity, a.branch_id):  # who has read it, for its secretary
        readers = announcement_selectors.readers_of(identity, a.pk, as_json=False)
        readers["of"] = len(readers["read"]) + len(readers["unread"])
        for person in readers["read"] + readers["unread"]:
            person["label"] = reader_label(person)
        if a.sent_to:  # 下发: and how far each branch below has got with its copy
            copies = announcement_selectors.copies_read(a)
    return render(request, "frontend/announcement.html",
                  {"a": None if withdrawn else a, "branch": a.branch, "readers": readers, "copies": copies},
                  status=410 if withdrawn else 200)


@login_required
def readers_csv(request, announcement_id: int):
    """已读名单 as a spreadsheet, for the branch's records (台账): each member expected to
    read it, whether they have, and when (in the branch's time), for its secretary."""
    from announcements.models import Announcement

    try:
        readers = announcement_selectors.readers_of(request_identity(request), announcement_id, as_json=False)
    except Forbidden:
        raise PermissionDenied from None
    except NotFound:
        raise Http404("no such announcement") from None
    a = Announcement.objects.select_related("branch").get(pk=announcement_id)
    zone = a.branch.zone
    # 下发: an original's list covers the branches below, and says whose branch each is.
    below = any("branches" in person for person in readers["read"] + readers["unread"])
    separator = pgettext("list separator", ", ")
    branches = (lambda person: [separator.join(person["branches"])]) if below else (lambda person: [])
    rows = [[person["name"], *branches(person), _("yes"),
             person["read_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if person["read_at"]
             else _("with “Mark all read”")] for person in readers["read"]]
    rows += [[person["name"], *branches(person), _("no"), ""] for person in readers["unread"]]
    return csv_download(_("%(title)s - readers.csv") % {"title": a.title[:80]},
                        [_("Name"), *([_("Branch")] if below else []), _("Read"), _("Read at")], rows)


@login_required
def announcements_csv(request, branch_id: int):
    """通知台账 as a spreadsheet, for the branch's records: every announcement of a year
    (`?year=`, on the branch's clock; all without it), oldest first, with who posted it,
    where it came from or also went (下发), how many have read it, and if it was withdrawn."""
    branch, year, rows, base = register_rows(request, branch_id, announcement_selectors.register)
    separator = pgettext("list separator", ", ")
    name = (_("%(branch)s - announcements %(year)s.csv") % {"branch": branch.name[:80], "year": year} if year
            else _("%(branch)s - announcements.csv") % {"branch": branch.name[:80]})
    return csv_download(name, [_("Posted at"), _("Title"), _("Posted by"), _("Sent from"), _("Also sent to"),
                               _("Read"), _("Expected to read"), _("Withdrawn at"), _("Link")], [
        [row["posted_at"].strftime("%Y-%m-%d %H:%M"), row["announcement"].title, row["author"], row["sent_from"],
         separator.join(row["sent_to"]), row["read"], row["expected"],
         row["withdrawn_at"].strftime("%Y-%m-%d %H:%M") if row["withdrawn_at"] else "",
         base + reverse("announcement", args=[row["announcement"].pk])]
        for row in rows])


def reader_label(person: dict) -> str:
    """A reader's name, and for an original sent below (下发) the branches they read it in."""
    if not person.get("branches"):
        return person["name"]
    return _("%(name)s (%(branches)s)") % {
        "name": person["name"], "branches": pgettext("list separator", ", ").join(person["branches"])}


def reminder_sent() -> str:
    """What a secretary is told once a reminder went out (%(count)s: how many got it)."""
    return _("Reminder sent to %(count)s. They see it among their notifications, and by e-mail if they take "
             "announcements by e-mail.")


@login_required
@require_POST
def remind_readers(request, announcement_id: int):
    """提醒未读 from the announcement's own page (works without JavaScript)."""
    try:
        result = remind_unread(identity=request_identity(request), announcement_id=announcement_id)
    except (Conflict, Forbidden, NotFound, RateLimited) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, reminder_sent() % {"count": result["reminded"]})
    return redirect(f"{reverse('announcement', args=[announcement_id])}#receipt")


@login_required
def attachment(request, attachment_id: int, name: str):
    """An announcement's file, to its branch's members. Pictures and PDFs open in the
    browser, the rest downloads; always with the type its extension says and `nosniff`
    (never HTML or SVG, which are not taken), so no upload can act as a page of this
    site. Everything but a PDF is also sandboxed (Chromium's PDF viewer would not
    open in a sandboxed document)."""
    try:
        f = attachment_rules.for_download(request_identity(request), attachment_id)
    except NotFound:
        raise Http404("no such file") from None
    a = f.announcement
    if a is not None and a.withdrawn_at is not None:
        return render(request, "frontend/announcement.html", {"a": None, "branch": a.branch}, status=410)
    preview = request.GET.get("preview") == "1" and bool(f.preview)
    try:
        handle = (f.preview if preview else f.file).open("rb")
    except FileNotFoundError:
        raise Http404("the file is missing from storage") from None
    response = FileResponse(handle, as_attachment=f.content_type not in attachment_rules.INLINE, filename=f.name,
                            content_type="image/jpeg" if preview else f.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if f.content_type != "application/pdf":
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def announcement_search(request, branch_id: int):
    """The branch's announcements holding every word searched for, newest first (with
    `all=1`, those of every branch the reader may read)."""
    from search.selectors import snippet_html

    branch, identity = member_branch(request, branch_id)
    q = request.GET.get("q", "").strip()[:200]
    everywhere = request.GET.get("all") == "1"  # the form offers it to readers of several branches
    items, words = announcement_selectors.search(identity, branch.pk, q, everywhere=everywhere)
    # The snippet from the text as readers see it, without the Markdown's marks.
    hits = [{"a": a, "title": snippet_html(a.title, words, width=200),
             "snippet": snippet_html(html.unescape(strip_tags(a.body_html)), words)} for a in items]
    return render(request, "frontend/announcement_search.html", {
        **branch_sections(identity, branch, "announcements"),
        "q": q,
        "hits": hits,
        "limit": announcement_selectors.SEARCH_LIMIT,
        "everywhere": everywhere,
    })


@login_required
def branch_overview(request, branch_id: int):
    """支部概况 (frontend/overview.py): complete without JavaScript; overview.js asks for
    the body again (`?fragment=body`) when an event it follows may change it."""
    branch, identity = member_branch(request, branch_id)
    if request.GET.get("fragment") == "body":
        return render(request, "frontend/_overview_body.html", {"branch": branch,
                                                                 **overview.overview(identity, branch)})
    sections = branch_sections(identity, branch, "overview")  # the tabs count the review queue once
    context = {"branch": branch, **overview.overview(identity, branch, pending_review=sections["pending_reviews"])}
    streams = [inbox_stream(identity.user_id), stream_for(branch.pk)]
    if context["moderates"]:
        streams.append(queue_stream(branch.pk))
    if context["manages"]:
        streams += [announcement_scheduling.stream_for(branch.pk), receipts_stream(branch.pk)]
    heads = dict(Stream.objects.filter(key__in=streams).values_list("key", "last_seq"))
    config = {
        "fragment_url": f"{reverse('branch-overview', args=[branch.pk])}?fragment=body",
        "streams": [{"stream": key, "since": heads.get(key, 0)} for key in streams],
    }
    return render(request, "frontend/overview.html", {**sections, **context, "page_config": config})


@login_required
def probation_to_agenda(request, branch_id: int, user_id: int):
    """转正 on the agenda: from the overview's list of probationary years ending, the
    secretary puts the question on the branch's next general meeting in one click
    (meetings.actions.add_agenda_item, the agenda's own write path)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    branch, identity = member_branch(request, branch_id)
    if not can_manage_branch(identity, branch.pk):
        raise PermissionDenied
    person = next((p for p in party_dates.due([branch.pk], timezone.localdate(timezone.now(), branch.zone))[
        branch.pk]["people"] if p["id"] == user_id), None)
    if person is None:
        raise Http404("not a probationary member whose year is ending here")
    meeting = overview.next_general(branch, timezone.now())
    back = f"{reverse('branch-overview', args=[branch.pk])}#todo-probation"
    if meeting is None:
        messages.error(request, _("No general meeting is scheduled yet: schedule one first."))
        return redirect(back)
    try:
        meeting_actions.add_agenda_item(identity=identity, meeting_id=meeting.pk,
                                        title=meeting_actions.full_membership_item(person["name"]),
                                        same_as=meeting_actions.full_membership_items(person["name"]))
    except (Conflict, Forbidden, Invalid) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("It is on the agenda of %(title)s.") % {"title": meeting.title})
    return redirect(back)


@login_required
def announcements(request, branch_id: int):
    branch, identity = member_branch(request, branch_id)
    # The page is complete without JavaScript; the socket's snapshot then replaces
    # this list and keeps it current.
    items = announcement_selectors.announcements_for(identity, branch.pk)
    read_seq = announcement_selectors.read_marker(identity, branch.pk)
    unread = announcement_selectors.unread_count(identity, branch.pk, read_seq=read_seq)
    read = announcement_selectors.read_ids(identity, branch.pk, items, read_seq=read_seq)
    for a in items:
        a.is_read = a.pk in read
    can_post = can_manage_branch(identity, branch.pk)
    if can_post and items:  # a secretary sees how many have read each one
        counts = announcement_selectors.read_counts(items)
        for a in items:
            a.receipt = counts[a.pk]
    config = {
        "branch": branch.pk,
        "stream": stream_for(branch.pk),
        "time_zone": branch.time_zone,
        "can_post": can_post,
        "page_size": announcement_selectors.PAGE_SIZE,
        "title_max": TITLE_MAX,
        "body_max": BODY_MAX,
        "me": identity.user_id,
        "login_url": reverse("login"),
    }
    scheduled, below, register_years, space = [], [], [], None
    if can_post:  # uploads go over HTTP (POST /api/branches/{id}/attachments)
        register_years = announcement_selectors.register_years(branch)
        if settings.BRANCH_ATTACHMENTS_BYTES:
            space = {"used": attachment_rules.space_used(branch.pk), "limit": settings.BRANCH_ATTACHMENTS_BYTES}
        below = branches_below(branch.pk)  # 下发: where a post here may go as well
        scheduled = announcement_scheduling.open_ones(branch.pk)
        config["scheduled_stream"] = announcement_scheduling.stream_for(branch.pk)
        # 下发: copies sent from these branches they may change (accounts/selectors.py)
        config["changes_from"] = secretary_reach(identity.user_id, branch.pk)
        config.update(attachments_max=attachment_rules.PER_ANNOUNCEMENT, attachment_accept=",".join(attachment_rules.TYPES),
                      attachment_max_bytes=settings.ATTACHMENT_MAX_BYTES, csrf=get_token(request))
    return render(
        request,
        "frontend/announcements.html",
        {
            **branch_sections(identity, branch, "announcements"),
            "attachment_accept": ",".join(attachment_rules.TYPES),
            "attachments_max": attachment_rules.PER_ANNOUNCEMENT,
            "attachment_mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
            "can_post": can_post,
            "stream": stream_for(branch.pk),
            "announcements": items,
            "scheduled": scheduled,
            "below": below,
            "register_years": register_years,
            "attachment_space": space,
            "read_seq": read_seq,
            "unread": unread,
            "title_max": TITLE_MAX,
            "body_max": BODY_MAX,
            "has_more": announcement_selectors.more_after(items),
            "page_config": config,
            "page_strings": announcement_strings(),
        },
    )
