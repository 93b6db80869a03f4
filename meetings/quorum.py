"""The rules of branch meetings about who counts and when a vote may open or passes.

Pure functions over counts, so the rules can be read (and tested) in one place:

- Voting members expected (应到会有表决权的党员) are the full members among the
  expected attendees, minus approved exclusions (不计入应到会人数). Probationary
  members attend and speak but never count toward quorum and never vote. An approved
  leave (请假) does NOT reduce the expected count.
- An ordinary vote may open only when more than half of the voting members expected
  are present; an election only when at least four fifths are present.
- A motion passes when its yes votes exceed half of the voting members expected (not
  half of those present). Written opinions (书面意见) of absent members count as votes.
- At an election (基层组织选举工作条例) someone is elected with votes from more than
  half of the voting members at the meeting (实到会有选举权的人数), not of those
  expected; an absent member cannot vote in it, by written opinion or through anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

VoteKind = Literal["motion", "election"]

QUORUM = {"motion": Fraction(1, 2), "election": Fraction(4, 5)}


@dataclass(frozen=True)
class QuorumCheck:
    kind: VoteKind
    present: int
    expected: int
    required: int  # the smallest number present that satisfies the rule

    @property
    def met(self) -> bool:
        return self.expected > 0 and self.present >= self.required


def required_present(kind: VoteKind, expected: int) -> int:
    """Motion: strictly more than half. Election: at least four fifths (rounded up)."""
    if kind == "motion":
        return expected // 2 + 1
    share = QUORUM["election"] * expected
    return int(share) if share.denominator == 1 else int(share) + 1


def check_quorum(kind: VoteKind, *, present: int, expected: int) -> QuorumCheck:
    if present < 0 or expected < 0:
        raise ValueError("counts cannot be negative")
    return QuorumCheck(kind=kind, present=present, expected=expected, required=required_present(kind, expected))


def motion_passes(*, yes: int, expected: int) -> bool:
    """More than half of the voting members expected said yes."""
    return expected > 0 and yes * 2 > expected


def elected(*, votes: int, present: int) -> bool:
    """More than half of the voting members at the meeting voted for them."""
    return present > 0 and votes * 2 > present


def voting_expected(*, full_members_expected: int, approved_exclusions: int) -> int:
    """Full members expected minus approved exclusions; leave does not reduce it."""
    return max(0, full_members_expected - approved_exclusions)
