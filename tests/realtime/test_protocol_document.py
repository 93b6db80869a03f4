"""docs/protocol.md names every op the server answers: a client's author reads there
what exists, so an op added without its row would be one nobody knows how to call."""

from __future__ import annotations

from pathlib import Path

from realtime.ops import registered_ops

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_every_registered_op_is_documented():
    text = PROTOCOL.read_text(encoding="utf-8")
    # (Tests register their own ops under "test.".)
    missing = sorted(name for name in registered_ops() if f"`{name}`" not in text and not name.startswith("test."))
    assert not missing, f"ops without a word in docs/protocol.md: {missing}"
    assert len(registered_ops()) > 60  # all the apps' ops are registered by now
