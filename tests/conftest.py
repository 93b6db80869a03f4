"""Shared fixtures: people in every role, made through the same code paths users take."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.identity import identity_for_user
from accounts.models import Branch, Membership


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Mail a test queued goes before the test ends (accounts/outbox.py): the mail thread
    must not read a database the next test is flushing (a TRUNCATE waiting on its read
    deadlocked once on PostgreSQL), nor one the test's teardown has closed to it."""
    try:
        return (yield)
    finally:
        from accounts import outbox

        outbox.wait_idle()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default PBKDF2 cost is ~0.3 s a user on this machine; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    # Uploaded files (announcements' attachments) land in the test's own folder.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_user(db):
    User = get_user_model()

    def make(username: str, *, branch: Branch | None = None, roles: tuple[str, ...] = (), **extra):
        user = User.objects.create_user(username, password="pw-" + username, first_name=username.title(), **extra)
        for role in roles:
            Membership.objects.create(user=user, branch=branch, role=role)
        return user

    return make


@pytest.fixture
def tree(db):
    """committee -> branch A (-> group A1), committee -> branch B."""
    committee = Branch.objects.create(name="党委", kind=Branch.Kind.COMMITTEE)
    a = Branch.objects.create(name="第一党支部", kind=Branch.Kind.BRANCH, parent=committee)
    b = Branch.objects.create(name="第二党支部", kind=Branch.Kind.BRANCH, parent=committee)
    a1 = Branch.objects.create(name="第一党小组", kind=Branch.Kind.GROUP, parent=a)
    return {"committee": committee, "a": a, "b": b, "a1": a1}


@pytest.fixture
def people(tree, make_user):
    """One person per role that matters for permission matrices."""
    a, b = tree["a"], tree["b"]
    return {
        "secretary": make_user("secretary", branch=a, roles=("secretary", "full")),
        "member": make_user("member", branch=a, roles=("full",)),
        "probationary": make_user("probationary", branch=a, roles=("probationary",)),
        "moderator": make_user("moderator", branch=a, roles=("moderator", "full")),
        "other_secretary": make_user("other_secretary", branch=b, roles=("secretary", "full")),
        "committee_secretary": make_user("committee_secretary", branch=tree["committee"], roles=("secretary",)),
        "outsider": make_user("outsider"),
    }


@pytest.fixture
def identities(people):
    return {name: identity_for_user(user) for name, user in people.items()}


@pytest.fixture(scope="session", autouse=True)
def close_worker_thread_connections(django_db_setup, django_db_blocker):
    """Close the connections that worker threads keep open.

    Async tests run their ORM calls in asgiref's single shared thread, and write ops in
    the batcher's thread (realtime/batching.py); their connections outlive the tests
    and would stop pytest-django from dropping a PostgreSQL test database at the end
    ("being accessed by other users").
    """
    yield
    import asyncio

    from channels.db import database_sync_to_async
    from django.db import connections

    from realtime.batching import close_writer_connections

    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())
        close_writer_connections()
