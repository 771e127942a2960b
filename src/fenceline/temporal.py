"""The temporal model: when each feature was built, upgraded and removed.

Time comes only from observations (DESIGN.md "Data model"). For each feature:

- ``built_by``: the first date it is observed ``present`` (or ``upgraded``, which implies
  present); ``built_after``: the last date before that it is observed ``absent`` (unknown if
  never). A feature never observed present has ``built_after`` = its last ``absent`` date.
- ``upgraded_by``: the first ``upgraded`` observation; ``upgraded_after``: the last ``present``
  observation before it (unknown when no upgrade was seen).
- ``removed_by``: the first ``removed`` observation, or the first ``absent`` observation after
  ``built_by``; ``removed_after``: the last ``present``/``upgraded`` observation before it
  (unknown when no removal was seen).
- ``unclear`` observations carry no date information.

At a date T a feature is

- **present**: ``built_by <= T`` and it is not possibly removed by T (no removal observed, or
  ``T <= removed_after``);
- **certainly absent**: ``built_after >= T`` or ``removed_by <= T``;
- **uncertain**: anything else. Uncertain features are reported, never silently counted.

DESIGN.md defines present as ``built_by <= T and not removed_by <= T`` and certainly absent as
``built_after >= T``. fenceline treats removal symmetrically with construction (a feature
between ``removed_after`` and ``removed_by`` is uncertain, one removed by T is certainly absent);
docs/temporal.md records this decision. For features never removed the two agree exactly.

Dates are integers, days since 1970-01-01 (:func:`fenceline.dates.to_days`); an unknown
"after" date is :data:`UNKNOWN_AFTER` and an unknown "by" date :data:`UNKNOWN_BY`, so that
comparisons need no special cases.

>>> import numpy as np
>>> tl = Timeline.from_observations(
...     n_features=1,
...     feature_index=np.array([0, 0]),
...     observed=np.array([100, 200]),
...     state=np.array(["absent", "present"]),
... )
>>> tl.status_at(150).tolist(), tl.status_at(200).tolist(), tl.status_at(50).tolist()
([2], [1], [0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ABSENT",
    "PRESENT",
    "UNCERTAIN",
    "UNKNOWN_AFTER",
    "UNKNOWN_BY",
    "Timeline",
]

#: status codes returned by :meth:`Timeline.status_at`
ABSENT, PRESENT, UNCERTAIN = 0, 1, 2

#: sentinel for an unknown "after" date (earlier than any date)
UNKNOWN_AFTER = np.iinfo(np.int64).min // 2
#: sentinel for an unknown "by" date (later than any date)
UNKNOWN_BY = np.iinfo(np.int64).max // 2

IntArray = npt.NDArray[np.int64]


def _group_min(n: int, index: IntArray, values: IntArray, mask: npt.NDArray[np.bool_]) -> IntArray:
    out = np.full(n, UNKNOWN_BY, dtype=np.int64)
    np.minimum.at(out, index[mask], values[mask])
    return out


def _group_max(n: int, index: IntArray, values: IntArray, mask: npt.NDArray[np.bool_]) -> IntArray:
    out = np.full(n, UNKNOWN_AFTER, dtype=np.int64)
    np.maximum.at(out, index[mask], values[mask])
    return out


@dataclass(frozen=True)
class Timeline:
    """Per-feature event dates (arrays of days since 1970-01-01, one entry per feature)."""

    built_after: IntArray
    built_by: IntArray
    upgraded_after: IntArray
    upgraded_by: IntArray
    removed_after: IntArray
    removed_by: IntArray

    def __len__(self) -> int:
        return len(self.built_by)

    @classmethod
    def from_observations(
        cls,
        n_features: int,
        feature_index: npt.ArrayLike,
        observed: npt.ArrayLike,
        state: npt.ArrayLike,
    ) -> Timeline:
        """Derive the event dates of ``n_features`` features from their observations.

        Parameters
        ----------
        n_features : int
            Number of features; ``feature_index`` refers to positions ``0..n_features-1``.
        feature_index : array of int
            The feature each observation is about.
        observed : array of int
            Observation dates, days since 1970-01-01.
        state : array of str
            ``present``, ``absent``, ``upgraded``, ``removed`` or ``unclear``.
        """
        index = np.asarray(feature_index, dtype=np.int64)
        days = np.asarray(observed, dtype=np.int64)
        states = np.asarray(state).astype(str)
        if not (len(index) == len(days) == len(states)):
            raise ValueError("feature_index, observed and state must have the same length")
        n = int(n_features)
        is_present = np.isin(states, ("present", "upgraded"))
        is_absent = states == "absent"
        is_upgraded = states == "upgraded"
        is_plain_present = states == "present"

        built_by = _group_min(n, index, days, is_present)
        built_by_of_obs = built_by[index]
        built_after = _group_max(n, index, days, is_absent & (days < built_by_of_obs))

        upgraded_by = _group_min(n, index, days, is_upgraded)
        upgraded_after = _group_max(n, index, days, is_plain_present & (days < upgraded_by[index]))
        upgraded_after[upgraded_by == UNKNOWN_BY] = UNKNOWN_AFTER  # no upgrade seen

        is_removal = (states == "removed") | (is_absent & (days > built_by_of_obs))
        removed_by = _group_min(n, index, days, is_removal)
        removed_after = _group_max(n, index, days, is_present & (days < removed_by[index]))
        removed_after[removed_by == UNKNOWN_BY] = UNKNOWN_AFTER  # no removal seen
        return cls(built_after, built_by, upgraded_after, upgraded_by, removed_after, removed_by)

    # --- status at a date ---------------------------------------------------------------
    def present_at(self, day: int) -> npt.NDArray[np.bool_]:
        """Features certainly present at ``day``."""
        not_removed = (self.removed_by == UNKNOWN_BY) | (day <= self.removed_after)
        return (self.built_by <= day) & not_removed

    def absent_at(self, day: int) -> npt.NDArray[np.bool_]:
        """Features certainly absent at ``day``."""
        return (self.built_after >= day) | (self.removed_by <= day)

    def status_at(self, day: int) -> npt.NDArray[np.int8]:
        """:data:`PRESENT`, :data:`ABSENT` or :data:`UNCERTAIN` for every feature."""
        out = np.full(len(self), UNCERTAIN, dtype=np.int8)
        out[self.absent_at(day)] = ABSENT
        out[self.present_at(day)] = PRESENT
        return out

    def upgraded_between(self, since: int, at: int) -> npt.NDArray[np.bool_]:
        """Features certainly upgraded in the interval (since, at]."""
        return (self.upgraded_after >= since) & (self.upgraded_by <= at)
