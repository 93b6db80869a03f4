from __future__ import annotations

from django.conf import settings


def navigation(request) -> dict:
    branches = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from accounts.models import Branch

        branches = list(Branch.objects.filter(memberships__user=user).distinct().order_by("id"))
    return {
        "nav_branches": branches,
        "realtime_limits": settings.BRANCHLINE_REALTIME,
    }
