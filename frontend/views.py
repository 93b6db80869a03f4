from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from accounts.api import request_identity
from accounts.models import Branch
from accounts.selectors import can_manage_branch, can_read_branch


def home(request):
    if request.user.is_authenticated:
        first = Branch.objects.filter(memberships__user=request.user).order_by("id").first()
        if first is not None:
            return redirect("announcements", branch_id=first.pk)
    return render(request, "frontend/home.html")


@login_required
def announcements(request, branch_id: int):
    branch = get_object_or_404(Branch, pk=branch_id)
    identity = request_identity(request)
    if not can_read_branch(identity, branch.pk):
        raise Http404("no such branch")
    return render(
        request,
        "frontend/announcements.html",
        {"branch": branch, "can_post": can_manage_branch(identity, branch.pk), "stream": f"announcements:{branch.pk}"},
    )
