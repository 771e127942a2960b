"""The disclosure check: may these excerpts be published, and described how?

**k-anonymity with global recoding.** The quasi-identifiers are sex, age band, province of
origin, occupation and year of departure. One generalisation level per quasi-identifier is
chosen for the whole publication (full-domain recoding over the lattice of levels below):

============  ==============  =====================  ====================  =============
level         0               1                      2                     3
============  ==============  =====================  ====================  =============
sex           female / male   *
age band      10-year band    20-year band           *
province      province        border / inland        *
occupation    occupation      group                  *
departure     year            5-year band            before / from 2020    *
============  ==============  =====================  ====================  =============

A witness passes at a node when their **class** (witnesses in the vault with the same
generalised values who could also have said what their excerpts say: a departure no earlier
than the last year their published excerpts speak of) has at least ``k`` members, **and**, when
a reference population is given (arrivals in South Korea per year), the estimated number of
people in that population matching the descriptor is at least ``k``:
``arrivals(departure range) × Π share(value)`` with each share taken from the vault. All
excerpts of one witness are judged together. The node chosen is the one with the fewest
failing witnesses, then the least generalisation. Witnesses that still fail are
**suppressed**: their excerpts are refused (or dropped with ``suppress=True``).

Free text is scanned (:mod:`fenceline.testimony.scan`); an excerpt with findings is refused
unless ``redact=True`` replaces them with placeholders.

>>> from fenceline.testimony.records import Profile
>>> describe(Profile("30-39", "female", "ryanggang", "trader", 2019, "regular", "none"),
...          (0, 0, 0, 0, 0))
'a former trader in her 30s from Ryanggang province who left in 2019'
>>> describe(Profile("30-39", "female", "ryanggang", "trader", 2019, "regular", "none"),
...          (0, 1, 1, 2, 2))
'a woman aged 18–39 from a northern border province who left before 2020'
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fenceline.testimony import vocab
from fenceline.testimony.records import Excerpt, Profile
from fenceline.testimony.scan import Finding, redact, scan_text

__all__ = [
    "DEFAULT_K",
    "DisclosureReport",
    "PublicItem",
    "check_disclosure",
    "contact_counts",
    "describe",
    "reference_population",
]

DEFAULT_K = 5
#: top level of each quasi-identifier: sex, age, province, occupation, departure
MAX_LEVELS = (1, 2, 2, 2, 3)
_OPEN_END = 9999


def reference_population() -> dict[int, int]:
    """Arrivals of North Koreans in South Korea per year (bundled, with sources).

    >>> reference_population()[2021]
    63
    """
    from fenceline.data import read_series

    frame = read_series("defectors_arrivals_south_korea_1998_2024")
    return {int(y): int(n) for y, n in zip(frame["year"], frame["arrivals"], strict=True)}


def _year_range(year: int, level: int) -> tuple[int, int]:
    if level == 0:
        return year, year
    if level == 1:
        low = year - year % 5
        return low, low + 4
    if level == 2:
        return (0, 2019) if year < 2020 else (2020, _OPEN_END)
    return 0, _OPEN_END


def generalise(profile: Profile, levels: Sequence[int]) -> tuple[Any, ...]:
    """The quasi-identifiers of ``profile`` at ``levels`` (``"*"`` where suppressed).

    >>> generalise(Profile("30-39", "female", "ryanggang", "trader", 2021, "rare", "none"),
    ...            (1, 1, 1, 1, 2))
    ('*', '18-39', 'border', 'market or trade', (2020, 9999))
    """
    sex_level, age_level, province_level, occupation_level, year_level = levels
    sex = profile.sex if sex_level == 0 else "*"
    age = (profile.age_band, vocab.AGE_BANDS_WIDE[profile.age_band], "*")[age_level]
    region = "border" if profile.province in vocab.BORDER_PROVINCES else "inland"
    province = (profile.province, region, "*")[province_level]
    occupation = (profile.occupation, vocab.OCCUPATIONS[profile.occupation][1], "*")[
        occupation_level
    ]
    return sex, age, province, occupation, _year_range(profile.year_departed, year_level)


_AGE_WORDS = {
    "18-29": "aged 18–29",
    "30-39": "in {p} 30s",
    "40-49": "in {p} 40s",
    "50-59": "in {p} 50s",
    "60+": "aged 60 or over",
    "18-39": "aged 18–39",
    "40-59": "aged 40–59",
}
_GROUP_NOUNS = {
    "market or trade": "market trader",
    "farm or factory work": "farm or factory worker",
    "state or military": "state employee",
    "professional": "professional",
    "other": None,
}


def describe(profile: Profile, levels: Sequence[int]) -> str:
    """A descriptor in Human Rights Watch's style at these generalisation levels."""
    sex, age, province, occupation, (low, high) = generalise(profile, levels)
    pronoun = {"female": "her", "male": "his"}.get(sex, "their")
    person = {"female": "a woman", "male": "a man"}.get(sex, "a witness")
    noun = None
    if occupation != "*":
        noun = (
            vocab.OCCUPATIONS[occupation][0]
            if occupation in vocab.OCCUPATIONS
            else _GROUP_NOUNS[occupation]
        ) or None
    parts: list[str] = []
    if noun and (age != "*" or sex == "*"):
        parts.append(f"a former {noun}")
    elif noun:
        parts.append(f"{person} who worked as a {noun},")
    else:
        parts.append(person)
    if age != "*":
        parts.append(_AGE_WORDS[age].format(p=pronoun))
    if province == "border":
        parts.append("from a northern border province")
    elif province == "inland":
        parts.append("from an inland province")
    elif province != "*":
        parts.append(f"from {vocab.PROVINCES[province][0]} province")
    if (low, high) != (0, _OPEN_END):
        if low == high:
            parts.append(f"who left in {low}")
        elif low == 0:
            parts.append(f"who left before {high + 1}")
        elif high == _OPEN_END:
            parts.append(f"who left in {low} or later")
        else:
            parts.append(f"who left between {low} and {high}")
    return " ".join(parts).rstrip(",").replace(", who", " who")


def _public_place(place: str | None, province_level: int) -> str | None:
    if place is None:
        return None
    if place.startswith("outside:"):
        return place.split(":", 1)[1].capitalize()
    if place.startswith("province:"):
        code = place.split(":", 1)[1]
        if province_level == 0:
            return f"{vocab.PROVINCES[code][0]} province"
        if province_level == 1:
            return (
                "a northern border province"
                if code in vocab.BORDER_PROVINCES
                else "an inland province"
            )
        return None
    if place.startswith("cell:") and province_level == 0:
        _, size, lon, lat = place.split(":")
        return f"{size}° cell at {lon}E {lat}N"
    return None


def _public_period(excerpt: Excerpt, year_level: int) -> str | None:
    if excerpt.period is None or year_level == 3:
        return None
    low = _year_range(excerpt.period.start_year, year_level)[0]
    high = _year_range(excerpt.period.end_year, year_level)[1]
    if year_level == 2:
        return "before 2020" if high < 2020 else ("2020 or later" if low >= 2020 else None)
    return str(low) if low == high else f"{low}–{high}"


@dataclass(frozen=True)
class PublicItem:
    """One excerpt as it would be published: no ids that lead back to the vault."""

    excerpt_id: str
    witness_ref: str
    descriptor: str
    topics: tuple[str, ...]
    place: str | None
    period: str | None
    text: str

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "witness": self.witness_ref,
            "descriptor": self.descriptor,
            "topics": list(self.topics),
            "huridocs": [vocab.TOPICS[t] for t in self.topics],
            "place": self.place,
            "period": self.period,
            "text": self.text,
        }


@dataclass
class DisclosureReport:
    """What the check found. ``problems`` name excerpt ids and reasons, never content."""

    k: int
    levels: tuple[int, ...]
    passed: bool
    items: list[PublicItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    class_sizes: dict[str, tuple[int, float | None]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The report as plain data without any testimony content."""
        return {
            "passed": self.passed,
            "k": self.k,
            "levels": dict(
                zip(
                    ("sex", "age_band", "province", "occupation", "year_departed"),
                    self.levels,
                    strict=True,
                )
            ),
            "excerpts": len(self.items),
            "suppressed": list(self.suppressed),
            "problems": list(self.problems),
            "findings": {key: [f.to_dict() for f in value] for key, value in self.findings.items()},
        }


def _implied_min_year(excerpts: Sequence[Excerpt]) -> int:
    years = [e.period.end_year for e in excerpts if e.period is not None]
    return max(years) if years else 0


def _class_sizes(
    profiles: Mapping[str, Profile],
    selected: Mapping[str, Sequence[Excerpt]],
    levels: Sequence[int],
    reference: Mapping[int, int] | None,
) -> dict[str, tuple[int, float | None]]:
    keys = {wid: generalise(p, levels) for wid, p in profiles.items()}
    total = len(profiles)
    value_counts = [Counter(key[i] for key in keys.values()) for i in range(4)]
    years_by_key: dict[tuple[Any, ...], list[int]] = {}
    for wid, key in keys.items():
        years_by_key.setdefault(key, []).append(profiles[wid].year_departed)
    for years in years_by_key.values():
        years.sort()
    out: dict[str, tuple[int, float | None]] = {}
    for wid, excerpts in selected.items():
        key = keys[wid]
        since = _implied_min_year(excerpts)
        years = years_by_key[key]
        count = len(years) - bisect.bisect_left(years, since)
        estimate: float | None = None
        if reference is not None:
            low, high = key[4]
            low = max(low, since)
            estimate = float(sum(n for year, n in reference.items() if low <= year <= high))
            for i in range(4):
                if key[i] != "*":
                    estimate *= value_counts[i][key[i]] / total
        out[wid] = (count, estimate)
    return out


def check_disclosure(
    profiles: Mapping[str, Profile],
    selected: Mapping[str, Sequence[Excerpt]],
    *,
    k: int = DEFAULT_K,
    reference: Mapping[int, int] | None = None,
    redact_text: bool = False,
    suppress: bool = False,
    morphology: bool = True,
) -> DisclosureReport:
    """Judge publishing ``selected`` (witness id -> excerpts) against all ``profiles``.

    Returns a :class:`DisclosureReport`; ``passed`` is True only if every selected excerpt
    (or, with ``suppress=True``, at least one, the rest dropped) can be published.
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    best: tuple[tuple[int, float, tuple[int, ...]], tuple[int, ...], dict] | None = None
    for levels in itertools.product(*(range(m + 1) for m in MAX_LEVELS)):
        sizes = _class_sizes(profiles, selected, levels, reference)
        failing = sum(
            1 for count, est in sizes.values() if count < k or (est is not None and est < k)
        )
        loss = sum(level / top for level, top in zip(levels, MAX_LEVELS, strict=True))
        rank = (failing, loss, levels)
        if best is None or rank < best[0]:
            best = (rank, levels, sizes)
    assert best is not None
    _, levels, sizes = best
    report = DisclosureReport(k=k, levels=tuple(levels), passed=False, class_sizes=sizes)
    failing_witnesses = {
        wid for wid, (count, est) in sizes.items() if count < k or (est is not None and est < k)
    }
    for wid in sorted(failing_witnesses):
        count, est = sizes[wid]
        ids = [e.id for e in selected[wid]]
        report.suppressed.extend(ids)
        why = f"{count} witness(es) in the vault share the descriptor"
        if est is not None:
            why += f", about {est:.1f} in the reference population"
        report.problems.append(
            f"excerpt(s) {', '.join(ids)}: would single out a witness at the safest "
            f"generalisation ({why}; k={k})"
        )
    refs: dict[str, str] = {}
    for wid, excerpts in selected.items():
        if wid in failing_witnesses:
            continue
        refs.setdefault(wid, f"Witness {len(refs) + 1}")
        descriptor = describe(profiles[wid], levels)
        for excerpt in excerpts:
            findings = scan_text(excerpt.text, morphology=morphology)
            text = excerpt.text
            if findings:
                report.findings[excerpt.id] = findings
                if redact_text:
                    text = redact(text, findings)
                else:
                    categories = Counter(f.category for f in findings)
                    listed = ", ".join(f"{n} {c}" for c, n in sorted(categories.items()))
                    report.problems.append(
                        f"excerpt {excerpt.id}: text may identify someone ({listed}); "
                        "edit it or publish with redaction"
                    )
            report.items.append(
                PublicItem(
                    excerpt_id=excerpt.id,
                    witness_ref=refs[wid],
                    descriptor=descriptor,
                    topics=excerpt.topics,
                    place=_public_place(excerpt.place, levels[2]),
                    period=_public_period(excerpt, levels[4]),
                    text=text,
                )
            )
    text_problems = any(not p.startswith("excerpt(s)") for p in report.problems)
    if failing_witnesses and not suppress:
        report.passed = False
    else:
        report.passed = bool(report.items) and not text_problems
        if not report.items and not report.problems:
            report.problems.append("nothing to publish")
    return report


def contact_counts(profiles: Sequence[Profile], k: int = DEFAULT_K) -> dict[str, Any] | None:
    """How many witnesses could contact relatives none / rarely / regularly, before and after
    2020. None when fewer than ``k`` witnesses (too few to aggregate safely).

    >>> p = Profile("30-39", "female", "ryanggang", "trader", 2019, "regular", "none")
    >>> contact_counts([p] * 5)["after_2020"]
    {'none': 5, 'rare': 0, 'regular': 0}
    """
    if len(profiles) < k:
        return None
    before = Counter(p.contact_before_2020 for p in profiles)
    after = Counter(p.contact_after_2020 for p in profiles)
    return {
        "witnesses": len(profiles),
        "levels": list(vocab.CONTACT_LEVELS),
        "before_2020": {level: before.get(level, 0) for level in vocab.CONTACT_LEVELS},
        "after_2020": {level: after.get(level, 0) for level in vocab.CONTACT_LEVELS},
        "as_of": dt.date.today().isoformat(),
    }
