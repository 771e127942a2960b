"""Property tests of the temporal model against a direct reading of the definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fenceline.temporal import ABSENT, PRESENT, UNCERTAIN, UNKNOWN_AFTER, UNKNOWN_BY, Timeline

STATES = ["present", "absent", "upgraded", "removed", "unclear"]

observation = st.tuples(st.integers(0, 3), st.integers(0, 60), st.sampled_from(STATES))


def reference(obs: list[tuple[int, int, str]], feature: int) -> dict[str, int]:
    """The definitions, one feature at a time, in plain Python."""
    mine = [(d, s) for f, d, s in obs if f == feature]
    present = [d for d, s in mine if s in ("present", "upgraded")]
    built_by = min(present) if present else UNKNOWN_BY
    absent_before = [d for d, s in mine if s == "absent" and d < built_by]
    built_after = max(absent_before) if absent_before else UNKNOWN_AFTER
    upgraded = [d for d, s in mine if s == "upgraded"]
    upgraded_by = min(upgraded) if upgraded else UNKNOWN_BY
    before_up = [d for d, s in mine if s == "present" and d < upgraded_by]
    upgraded_after = max(before_up) if before_up and upgraded else UNKNOWN_AFTER
    removals = [d for d, s in mine if s == "removed" or (s == "absent" and d > built_by)]
    removed_by = min(removals) if removals else UNKNOWN_BY
    before_rm = [d for d, s in mine if s in ("present", "upgraded") and d < removed_by]
    removed_after = max(before_rm) if before_rm and removals else UNKNOWN_AFTER
    return {
        "built_by": built_by,
        "built_after": built_after,
        "upgraded_by": upgraded_by,
        "upgraded_after": upgraded_after,
        "removed_by": removed_by,
        "removed_after": removed_after,
    }


def timeline(obs: list[tuple[int, int, str]], n: int = 4) -> Timeline:
    return Timeline.from_observations(
        n,
        np.array([o[0] for o in obs], dtype=np.int64),
        np.array([o[1] for o in obs], dtype=np.int64),
        np.array([o[2] for o in obs], dtype=object),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(observation, max_size=25))
def test_event_dates_match_definitions(obs: list[tuple[int, int, str]]) -> None:
    tl = timeline(obs)
    for feature in range(4):
        expected = reference(obs, feature)
        for name, value in expected.items():
            assert getattr(tl, name)[feature] == value, name


@settings(max_examples=300, deadline=None)
@given(st.lists(observation, max_size=25), st.integers(-5, 70))
def test_status_is_consistent_with_observations(obs: list[tuple[int, int, str]], day: int) -> None:
    tl = timeline(obs)
    status = tl.status_at(day)
    for feature in range(4):
        mine = [(d, s) for f, d, s in obs if f == feature]
        if status[feature] == PRESENT:
            # a present-type observation at or before the day, and no removal evidence by it
            assert any(d <= day and s in ("present", "upgraded") for d, s in mine)
            assert not any(d <= day and s == "removed" for d, s in mine)
        elif status[feature] == ABSENT:
            # an absence (before construction) at or after the day, or a removal by it
            assert any(s in ("absent", "removed") for d, s in mine)
        else:
            assert status[feature] == UNCERTAIN


@settings(max_examples=200, deadline=None)
@given(st.lists(observation, max_size=25), st.integers(-5, 70), st.integers(-5, 70))
def test_present_never_becomes_absent_without_removal(
    obs: list[tuple[int, int, str]], a: int, b: int
) -> None:
    early, late = sorted((a, b))
    tl = timeline(obs)
    never_removed = tl.removed_by == UNKNOWN_BY
    was_present = tl.present_at(early)
    assert np.all(tl.present_at(late)[was_present & never_removed])


def test_observation_exactly_on_dates() -> None:
    # absent on day 10, present on day 20: certainly absent at 10, uncertain between, present at 20
    tl = timeline([(0, 10, "absent"), (0, 20, "present")], n=1)
    assert tl.status_at(10)[0] == ABSENT
    assert tl.status_at(11)[0] == UNCERTAIN
    assert tl.status_at(19)[0] == UNCERTAIN
    assert tl.status_at(20)[0] == PRESENT


def test_removal_window_is_uncertain() -> None:
    tl = timeline([(0, 10, "present"), (0, 30, "present"), (0, 40, "removed")], n=1)
    assert tl.status_at(30)[0] == PRESENT
    assert tl.status_at(35)[0] == UNCERTAIN
    assert tl.status_at(40)[0] == ABSENT


def test_upgraded_between() -> None:
    tl = timeline([(0, 5, "present"), (0, 15, "upgraded")], n=1)
    assert tl.upgraded_between(5, 15)[0]
    assert not tl.upgraded_between(6, 15)[0]  # the upgrade may have happened on day 6 or before
    assert not tl.upgraded_between(5, 14)[0]
