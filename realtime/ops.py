"""The registry through which apps add WebSocket ops.

An op declares its argument model (pydantic, strict, no unknown fields), whether it
writes (then the frame must carry a client id `cid` and a retry returns the first
result), who may call it at all, and a sync handler that calls one action.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from dataclasses import dataclass
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from accounts.identity import Identity

from .errors import BadRequest, Invalid, Unauthenticated


class OpArgs(BaseModel):
    """Base for op arguments: JSON types are taken as sent, never coerced."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=False)


@dataclass(frozen=True, slots=True)
class OpContext:
    identity: Identity
    client_id: str | None
    connection_id: str


Audience = Literal["any", "user", "user_or_citizen"]


# A write op may say which stream its first event goes to, and the model whose row
# that event's payload inserts with a key drawn ahead (realtime/events.py, `reserve`):
# on PostgreSQL a batch then moves that head with its BEGIN instead of in a round trip
# of its own. Say it only where every successful call appends there: a head moved and
# not appended to costs the batch its optimistic pass.
Appends = Callable[[OpArgs], "tuple[str, type | None]"]


@dataclass(frozen=True)
class OpSpec:
    name: str
    args: type[OpArgs]
    handler: Callable[[OpContext, OpArgs], dict]
    writes: bool = False
    audience: Audience = "user"
    appends: Appends | None = None


_ops: dict[str, OpSpec] = {}


def register_op(
    name: str, *, args: type[OpArgs], writes: bool = False, audience: Audience = "user", appends: Appends | None = None
):
    def decorator(handler: Callable[[OpContext, OpArgs], dict]):
        if name in _ops:
            raise RuntimeError(f"op {name!r} registered twice")
        if appends is not None and not writes:
            raise RuntimeError(f"op {name!r} appends but does not write")
        _ops[name] = OpSpec(name=name, args=args, handler=handler, writes=writes, audience=audience, appends=appends)
        return handler

    return decorator


def get_op(name: str) -> OpSpec | None:
    return _ops.get(name)


def registered_ops() -> dict[str, OpSpec]:
    return dict(_ops)


def check_audience(spec: OpSpec, identity: Identity) -> None:
    if spec.audience == "any":
        return
    if spec.audience == "user" and not identity.is_user:
        raise Unauthenticated(_("Please log in first."))
    if spec.audience == "user_or_citizen" and not (identity.is_user or identity.is_citizen):
        raise Unauthenticated(_("Please log in, or continue as a citizen."))


def parse_args(spec: OpSpec, raw: object) -> OpArgs:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequest("args must be a JSON object", details={"field": "args"})
    try:
        return spec.args.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "args"
        kind = first.get("type", "")
        if kind == "missing":
            message = f"missing field {field!r}"
        elif kind == "extra_forbidden":
            message = f"unknown field {field!r}"
        else:
            message = f"field {field!r}: {first.get('msg', 'invalid')}"
        raise Invalid(field, message) from None
