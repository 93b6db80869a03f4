"""Quorum and pass rules, table-driven at the boundaries."""

from __future__ import annotations

import pytest

from meetings.quorum import check_quorum, motion_passes, required_present, voting_expected


@pytest.mark.parametrize("expected, present, met", [
    (9, 5, True), (9, 4, False), (10, 6, True), (10, 5, False), (1, 1, True), (1, 0, False), (2, 1, False),
    (2, 2, True), (0, 0, False),
])
def test_an_ordinary_vote_needs_more_than_half_present(expected, present, met):
    assert check_quorum("motion", present=present, expected=expected).met is met


@pytest.mark.parametrize("expected, present, met", [
    (10, 8, True), (10, 7, False), (9, 8, True), (9, 7, False), (5, 4, True), (5, 3, False), (6, 5, True),
    (6, 4, False),
])
def test_an_election_needs_four_fifths_present(expected, present, met):
    assert check_quorum("election", present=present, expected=expected).met is met


@pytest.mark.parametrize("kind, expected, required", [
    ("motion", 9, 5), ("motion", 10, 6), ("election", 10, 8), ("election", 9, 8), ("election", 11, 9),
])
def test_the_required_number_is_named(kind, expected, required):
    assert required_present(kind, expected) == required


@pytest.mark.parametrize("expected, yes, passes", [(9, 5, True), (9, 4, False), (10, 6, True), (10, 5, False),
                                                   (0, 0, False)])
def test_a_motion_passes_on_more_than_half_of_those_expected_not_present(expected, yes, passes):
    assert motion_passes(yes=yes, expected=expected) is passes


def test_leave_does_not_reduce_the_expected_count_but_an_exclusion_does():
    # 10 full members expected, 2 on approved leave, 1 approved exclusion (abroad > 6 months)
    assert voting_expected(full_members_expected=10, approved_exclusions=1) == 9
    # leave is not an argument at all: it cannot reduce the count


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        check_quorum("motion", present=-1, expected=3)
