"""The Django admin, which with ADMIN_TWO_FACTOR=true lets in only staff who log in
with two-step verification (accounts/two_factor.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class BranchlineAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        if not settings.ADMIN_TWO_FACTOR:
            return True
        from accounts import two_factor

        return two_factor.enabled(request.user)


class BranchlineAdminConfig(AdminConfig):
    default_site = "server.admin_site.BranchlineAdminSite"
