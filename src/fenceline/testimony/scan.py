"""Scan free text for what could identify a witness: names and places in Hangul and
romanised forms, dates, ages and phone numbers.

Four detectors, all offline:

- a **gazetteer** of provinces and towns (:data:`fenceline.testimony.vocab.PROVINCES`,
  :data:`~fenceline.testimony.vocab.PLACES`) and the bundled GeoNames / Natural Earth places,
  matched in Hangul (as a substring, so ``양강도에서`` and ``혜산시장`` are found) and in
  romanised forms (diacritics and apostrophes folded, at word starts);
- the Korean morphological analyser **kiwipiepy**: every proper noun (``NNP``) it finds;
- **patterns** for romanised personal names (a Korean surname then a capitalised given name,
  or a title such as "Mr"), dates, ages and phone numbers.

A finding carries its category and character span; callers print categories and offsets,
never the text itself.

>>> [f.category for f in scan_text("She crossed near Hyesan in March 2021.", morphology=False)]
['place', 'date']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fenceline.errors import MissingDependencyError
from fenceline.testimony import vocab

__all__ = ["Finding", "redact", "scan_text"]

#: what replaces a flagged span when redacting
PLACEHOLDERS = {
    "place": "[place]",
    "name": "[name]",
    "proper_noun": "[name or place]",
    "date": "[date]",
    "age": "[age]",
    "phone": "[phone]",
}


@dataclass(frozen=True)
class Finding:
    """One span of text that could identify someone."""

    category: str  # place, name, proper_noun, date, age, phone
    start: int
    end: int
    detector: str  # gazetteer, morphology, pattern

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "detector": self.detector,
        }


_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@functools.lru_cache(maxsize=1)
def _gazetteer() -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """Hangul names (substring match) and one regex of folded romanised names."""
    names: set[str] = set()
    for _label, forms in vocab.PROVINCES.values():
        names.update(forms)
        names.add(_label)
    for _province, forms in vocab.PLACES.values():
        names.update(forms)
    try:
        from fenceline.data import bundled_places

        geonames = bundled_places("geonames")
        names.update(map(str, geonames["name"]))
        names.update(map(str, geonames["asciiname"]))
        natural_earth = bundled_places("naturalearth")
        for column in ("NAME", "NAMEASCII", "NAMEALT"):
            for value in natural_earth[column].dropna():
                names.update(part.strip() for part in str(value).split("|") if part.strip())
    except Exception:  # the gazetteer above is enough if the bundled data is unreadable
        pass
    hangul = tuple(sorted({n for n in names if _HANGUL.search(n)}, key=len, reverse=True))
    roman = {vocab.fold(n) for n in names if not _HANGUL.search(n) and len(n) >= 3}
    # a romanised name also matches without its hyphens/spaces ("Yanggang-do", "Yanggangdo")
    variants = set()
    for name in roman:
        variants.add(re.escape(name).replace(r"\-", r"[\s-]?").replace(r"\ ", r"[\s-]?"))
    pattern = None
    if variants:
        alternation = "|".join(sorted(variants, key=len, reverse=True))
        pattern = re.compile(rf"(?<![a-z])(?:{alternation})", re.IGNORECASE)
    return hangul, pattern


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each folded character, its index in the original."""
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        folded = vocab.fold(char)
        for f in folded:
            out.append(f)
            index.append(i)
    return "".join(out), index


_SURNAMES = (
    "Kim|Lee|Ri|Yi|Rhee|Pak|Park|Choe|Choi|Chong|Jong|Jung|Kang|Cho|Jo|Han|Ryu|Yu|Yun|Jang|"
    "Chang|Im|Rim|Lim|Oh|Song|Hwang|Ahn|An|Hong|Jeon|Jon|Chon|Ko|Mun|Moon|Son|Yang|Ryang|Bae|"
    "Paek|Baek|Heo|Ho|Nam|Sim|Shin|Sin|Ju|Ha|Kwak|Seo|So|Cha|Ku|Min|Chu|No|Roh|Kwon|Kwon"
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("name", re.compile(rf"\b(?:{_SURNAMES})[ -][A-Z][a-z]+(?:[ -][A-Za-z][a-z]+)?")),
    ("name", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Comrade|Aunt|Uncle)\.?\s+[A-Z][a-z]+")),
    (
        "phone",
        re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s.-]?)?(?:\(?\d{2,4}\)?[\s.-]?){2,4}\d{3,4}(?!\d)"),
    ),
    ("date", re.compile(r"\b\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?\b")),
    ("date", re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")),
    ("date", re.compile(r"\d{2,4}\s*년(?:\s*\d{1,2}\s*월)?(?:\s*\d{1,2}\s*일)?")),
    ("date", re.compile(r"\d{1,2}\s*월(?:\s*\d{1,2}\s*일)?")),
    (
        "date",
        re.compile(
            r"\b(?:\d{1,2}\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
            r"(?:\s+\d{1,2}(?:st|nd|rd|th)?(?!\d))?(?:,?\s+\d{4})?"
        ),
    ),
    ("date", re.compile(r"\b(?:19|20)\d{2}\b")),
    ("age", re.compile(r"\d{1,3}\s*(?:살|세)")),
    ("age", re.compile(r"\b(?:aged\s+\d{1,3}|\d{1,3}[\s-]years?[\s-]old)\b", re.IGNORECASE)),
)


@functools.lru_cache(maxsize=1)
def _kiwi():
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise MissingDependencyError("kiwipiepy", "testimony") from None
    return Kiwi()


def scan_text(text: str, *, morphology: bool = True) -> list[Finding]:
    """Spans of ``text`` that could identify a person, place or time, sorted by start.

    ``morphology=False`` skips kiwipiepy (the gazetteer and patterns still run).

    >>> [(f.category, f.start, f.end) for f in scan_text("양강도에서 왔다", morphology=False)]
    [('place', 0, 3)]
    """
    findings: list[Finding] = []
    hangul, roman = _gazetteer()
    for name in hangul:
        start = text.find(name)
        while start != -1:
            findings.append(Finding("place", start, start + len(name), "gazetteer"))
            start = text.find(name, start + 1)
    if roman is not None:
        folded, index = _fold_with_map(text)
        for match in roman.finditer(folded):
            # a name followed by more letters still counts ("Hyesan-si", "Tumenjiang")
            findings.append(
                Finding("place", index[match.start()], index[match.end() - 1] + 1, "gazetteer")
            )
    for category, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found = match.group()
            digits = sum(c.isdigit() for c in found)
            if (category == "date" and digits == 0) or (category == "phone" and digits < 9):
                continue  # "May" alone is not a date; "2019-2021" is not a phone number
            findings.append(Finding(category, match.start(), match.end(), "pattern"))
    if morphology and _HANGUL.search(text):
        for token in _kiwi().tokenize(text):
            if token.tag == "NNP":
                findings.append(
                    Finding("proper_noun", token.start, token.start + token.len, "morphology")
                )
    return _merge(findings)


def _merge(findings: list[Finding]) -> list[Finding]:
    """Drop findings inside another one (keeping the first-ranked category)."""
    rank = {"name": 0, "phone": 1, "place": 2, "proper_noun": 3, "date": 4, "age": 5}
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start), rank[f.category]))
    kept: list[Finding] = []
    for finding in ordered:
        if kept and finding.start >= kept[-1].start and finding.end <= kept[-1].end:
            continue
        kept.append(finding)
    return kept


def redact(text: str, findings: list[Finding]) -> str:
    """``text`` with every finding replaced by a placeholder such as ``[place]``.

    >>> redact("from Hyesan", scan_text("from Hyesan", morphology=False))
    'from [place]'
    """
    out: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:  # overlapping: extend the previous placeholder
            position = max(position, finding.end)
            continue
        out.append(text[position : finding.start])
        out.append(PLACEHOLDERS[finding.category])
        position = finding.end
    out.append(text[position:])
    return "".join(out)
