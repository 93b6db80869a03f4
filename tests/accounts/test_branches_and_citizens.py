from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.actions import create_citizen
from accounts.identity import ANONYMOUS, identity_for_citizen
from accounts.models import Branch, Citizen, Membership
from accounts.selectors import can_manage_branch, can_read_branch, citizen_for_token
from realtime.errors import Invalid

pytestmark = pytest.mark.django_db


def test_citizen_tokens_are_random_and_stored_only_hashed():
    citizen, token = create_citizen(display_name="张大爷")
    other, other_token = create_citizen()
    assert token != other_token
    assert len(token) >= 32  # base64url of 24 bytes
    stored = Citizen.objects.get(pk=citizen.pk)
    assert token not in stored.token_hash
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert citizen_for_token(token) == citizen
    assert citizen_for_token(token + "x") is None
    assert citizen_for_token("") is None


def test_citizen_fields_are_bounded():
    with pytest.raises(Invalid):
        create_citizen(display_name="名" * 81)


def test_branch_time_zone_is_validated():
    branch = Branch(name="x", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError):
        branch.full_clean()
    Branch(name="y", time_zone="Asia/Urumqi").full_clean()


def test_branch_cannot_be_its_own_ancestor(tree):
    committee = tree["committee"]
    committee.parent = tree["a1"]
    with pytest.raises(ValidationError):
        committee.clean()


def test_one_role_once_per_branch(people, tree):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=people["member"], branch=tree["a"], role="full")


def test_secretaries_have_a_vote_probationary_members_do_not(people, tree):
    roles = {m.role: m.has_vote for m in Membership.objects.filter(branch=tree["a"])}
    assert roles == {"secretary": True, "full": True, "probationary": False, "moderator": False}


@pytest.mark.parametrize(
    "who, read_a, manage_a",
    [
        ("secretary", True, True),
        ("member", True, False),
        ("probationary", True, False),
        ("moderator", True, False),
        ("other_secretary", False, False),
        ("committee_secretary", True, True),
        ("outsider", False, False),
    ],
)
def test_branch_permission_matrix(identities, tree, who, read_a, manage_a):
    assert can_read_branch(identities[who], tree["a"].pk) is read_a
    assert can_manage_branch(identities[who], tree["a"].pk) is manage_a


def test_citizens_and_anonymous_read_no_member_streams(tree):
    citizen, _ = create_citizen()
    assert not can_read_branch(identity_for_citizen(citizen), tree["a"].pk)
    assert not can_read_branch(ANONYMOUS, tree["a"].pk)
