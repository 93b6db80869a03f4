from __future__ import annotations

import pytest

from forum.models import Board


@pytest.fixture
def boards(tree):
    return {
        "members": Board.objects.create(branch=tree["a"], name="支部交流"),
        "public": Board.objects.create(branch=tree["a"], name="群众之声", visibility="public", citizens_may_post=True),
        "public_closed": Board.objects.create(branch=tree["a"], name="政策解读", visibility="public"),
        "other": Board.objects.create(branch=tree["b"], name="二支部交流"),
    }
