"""Forgotten passwords: a link that sets a new one, sent by e-mail (when the server can
send mail) or handed over by a branch secretary, and the pages that link opens.

A link works once (setting the password changes what its token was made from) and for
PASSWORD_RESET_TIMEOUT. Setting a password through it ends every session the person
had, so a lost or shared device is logged out too.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from accounts import security
from accounts.actions import end_other_sessions
from accounts.throttle import RESET_LIMIT, clear_failures, take_reset_request


def link_days() -> int:
    """How many days a link to set a password works (for the pages that say so)."""
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


class ForgotPasswordView(auth_views.PasswordResetView):
    """忘记密码: an e-mail address in, a link out (if an active account uses it). The
    reply is the same whether or not one does."""

    template_name = "frontend/password_forgot.html"
    email_template_name = "frontend/email/password_reset.txt"
    subject_template_name = "frontend/email/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")

    def dispatch(self, request, *args, **kwargs):
        if not settings.SENDS_EMAIL:
            # No mail can go out: say who can help instead of taking an address.
            return render(request, self.template_name, {"by_email": False})
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "by_email": True}

    def form_valid(self, form):
        if not take_reset_request(form.cleaned_data["email"]):
            form.add_error(
                "email",
                _("This address has been sent %(count)d links in the last hour. Try again later.")
                % {"count": RESET_LIMIT},
            )
            return self.form_invalid(form)
        self.extra_email_context = {"days": link_days()}
        return super().form_valid(form)


class ResetSentView(auth_views.PasswordResetDoneView):
    template_name = "frontend/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "days": link_days()}


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The page a link opens: a new password, twice. An expired or used link says so."""

    template_name = "frontend/password_set.html"
    success_url = reverse_lazy("password-set-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        end_other_sessions(user, None)  # every device is logged out
        security.notify(user, security.PASSWORD_CHANGED, request=self.request)
        clear_failures(user.get_username())  # and may log in at once
        return response


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "frontend/password_set_done.html"
