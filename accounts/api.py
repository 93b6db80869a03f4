from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from ninja.security import django_auth

from .actions import create_citizen
from .identity import identity_for_citizen, identity_for_user
from .members import roster_records
from .middleware import set_citizen_cookie
from .selectors import branches_for

router = Router(tags=["accounts"])


def request_identity(request: HttpRequest):
    if request.user.is_authenticated:
        return identity_for_user(request.user, request.session.session_key)
    citizen = getattr(request, "citizen", None)
    if citizen:
        return identity_for_citizen(citizen)
    return identity_for_user(None)


class CitizenIn(Schema):
    display_name: str = ""
    contact: str = ""


class CitizenOut(Schema):
    id: int
    token: str
    display_name: str


@router.get("/me", summary="Who am I (member, citizen or anonymous) and my branches")
def me(request: HttpRequest):
    identity = request_identity(request)
    return {
        "identity": identity.to_dict(),
        "branches": [b.to_dict() for b in branches_for(identity)],
    }


@router.get("/branches/{branch_id}/members", auth=django_auth,
            summary="A branch's members (花名册), by name: roles for its members; for its secretaries also "
                    "username, whether an e-mail address is on file, last login, two-step verification, the day they "
                    "joined the party, a probationary member's end of their year and whether a member's rights to "
                    "vote, elect and be elected are suspended")
def branch_members(request: HttpRequest, branch_id: int):
    _secretary, records = roster_records(request_identity(request), branch_id)
    return {"members": records}


@router.post("/citizens", response={201: CitizenOut}, summary="Create a citizen identity; the token is shown once")
def new_citizen(request: HttpRequest, response: HttpResponse, payload: CitizenIn):
    citizen, token = create_citizen(display_name=payload.display_name, contact=payload.contact)
    set_citizen_cookie(response, request, token)
    return Status(201, {"id": citizen.pk, "token": token, "display_name": citizen.display_name})
