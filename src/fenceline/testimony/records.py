"""Testimony records: a witness profile, interviews, and excerpts coded by topic.

Records are validated here, from plain dicts, before anything is encrypted. Error messages
name the field, never its value (a value may identify someone).

>>> p = Profile.from_dict({"age": 34, "sex": "female", "province": "Ryanggang",
...     "occupation": "trader", "year_departed": 2019,
...     "contact_before_2020": "regular", "contact_after_2020": "none"})
>>> p.age_band, p.province
('30-39', 'ryanggang')
>>> Profile.from_dict(p.to_dict()) == p
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from fenceline.errors import InputError
from fenceline.testimony import vocab

__all__ = ["Excerpt", "Interview", "Period", "Profile", "Witness"]


def _choice(source: str, name: str, value: Any, allowed: tuple[str, ...] | dict) -> str:
    if value not in allowed:
        raise InputError(source, f"must be one of {', '.join(allowed)}", field=name)
    return str(value)


def _text(source: str, name: str, value: Any, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise InputError(source, "is required", field=name)
        return ""
    if not isinstance(value, str):
        raise InputError(source, "must be text", field=name)
    return value


def _unknown(source: str, data: dict[str, Any], known: set[str]) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise InputError(source, f"unknown field(s): {', '.join(map(repr, extra))}")


@dataclass(frozen=True)
class Profile:
    """What a witness is, generalised at entry: no name, no exact age, no town.

    ``notes`` is free text for the research team; it is never published.
    """

    age_band: str
    sex: str
    province: str
    occupation: str
    year_departed: int
    contact_before_2020: str
    contact_after_2020: str
    notes: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "profile") -> Profile:
        if not isinstance(data, dict):
            raise InputError(source, "expected an object")
        fields = {
            "age",
            "age_band",
            "sex",
            "province",
            "occupation",
            "year_departed",
            "contact_before_2020",
            "contact_after_2020",
            "notes",
        }
        _unknown(source, data, fields)
        age = data.get("age_band", data.get("age"))
        if age is None:
            raise InputError(source, "is required", field="age_band")
        try:
            band = vocab.age_band(age)
        except InputError as exc:
            raise InputError(source, exc.problem, field="age_band") from None
        province_name = _text(source, "province", data.get("province"), required=True)
        try:
            province = vocab.province_code(province_name)
        except InputError as exc:
            raise InputError(source, exc.problem, field="province") from None
        try:
            year = int(data.get("year_departed"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(source, "must be a year", field="year_departed") from None
        if not 1950 <= year <= dt.date.today().year:
            raise InputError(source, "year out of range", field="year_departed")
        return cls(
            age_band=band,
            sex=_choice(source, "sex", data.get("sex"), vocab.SEXES),
            province=province,
            occupation=_choice(source, "occupation", data.get("occupation"), vocab.OCCUPATIONS),
            year_departed=year,
            contact_before_2020=_choice(
                source, "contact_before_2020", data.get("contact_before_2020"), vocab.CONTACT_LEVELS
            ),
            contact_after_2020=_choice(
                source, "contact_after_2020", data.get("contact_after_2020"), vocab.CONTACT_LEVELS
            ),
            notes=_text(source, "notes", data.get("notes")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _date(source: str, name: str, value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InputError(source, "must be a date YYYY-MM-DD", field=name) from None


@dataclass(frozen=True)
class Interview:
    """One interview with a witness. ``notes`` is never published."""

    id: str
    date: str
    language: str
    interviewer: str
    notes: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "interview") -> Interview:
        if not isinstance(data, dict):
            raise InputError(source, "expected an object")
        _unknown(source, data, {"id", "date", "language", "interviewer", "notes"})
        return cls(
            id=_text(source, "id", data.get("id")),
            date=_date(source, "date", data.get("date")),
            language=_text(source, "language", data.get("language"), required=True),
            interviewer=_text(source, "interviewer", data.get("interviewer"), required=True),
            notes=_text(source, "notes", data.get("notes")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Period:
    """The time an excerpt speaks of, as first and last year (inclusive)."""

    start_year: int
    end_year: int

    @classmethod
    def parse(cls, value: Any, source: str = "excerpt") -> Period | None:
        """``"2021"``, ``"2019-2021"``, ``{"start": 2019, "end": 2021}`` or None.

        >>> Period.parse("2019-2021")
        Period(start_year=2019, end_year=2021)
        """
        if value is None or value == "":
            return None
        try:
            if isinstance(value, dict):
                start, end = int(value["start"]), int(value.get("end", value["start"]))
            else:
                text = str(value).strip()
                parts = text.split("-") if "-" in text[1:] else [text, text]
                start, end = int(parts[0][:4]), int(parts[1][:4])
        except (KeyError, TypeError, ValueError):
            raise InputError(source, "expected a year or YYYY-YYYY", field="period") from None
        if start > end or not 1950 <= start <= 2100:
            raise InputError(source, "start after end, or year out of range", field="period")
        return cls(start, end)


@dataclass(frozen=True)
class Excerpt:
    """A passage of an interview, coded by topic, with a coarsened place and a period."""

    id: str
    interview_id: str
    text: str
    topics: tuple[str, ...]
    place: str | None = None
    period: Period | None = None
    language: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "excerpt") -> Excerpt:
        if not isinstance(data, dict):
            raise InputError(source, "expected an object")
        _unknown(
            source, data, {"id", "interview_id", "text", "topics", "place", "period", "language"}
        )
        text = _text(source, "text", data.get("text"), required=True)
        topics = data.get("topics") or []
        if isinstance(topics, str):
            topics = [t.strip() for t in topics.split(",") if t.strip()]
        if not topics:
            raise InputError(source, "give at least one topic", field="topics")
        for topic in topics:
            _choice(source, "topics", topic, vocab.TOPICS)
        try:
            place = vocab.coarsen_place(data.get("place"))
        except InputError as exc:
            raise InputError(source, exc.problem, field="place") from None
        return cls(
            id=_text(source, "id", data.get("id")),
            interview_id=_text(source, "interview_id", data.get("interview_id")),
            text=text,
            topics=tuple(dict.fromkeys(topics)),
            place=place,
            period=Period.parse(data.get("period"), source),
            language=_text(source, "language", data.get("language")),
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["topics"] = list(self.topics)
        out["period"] = (
            None if self.period is None else f"{self.period.start_year}-{self.period.end_year}"
        )
        return out


@dataclass
class Witness:
    """A witness as held in memory once decrypted: profile, interviews, excerpts."""

    id: str
    profile: Profile
    interviews: list[Interview] = field(default_factory=list)
    excerpts: list[Excerpt] = field(default_factory=list)
