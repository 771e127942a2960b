"""The free-text scanner: names, places, dates, ages and phone numbers."""

from __future__ import annotations

import pytest

from fenceline.testimony.scan import redact, scan_text


def _flagged(text: str) -> set[str]:
    return {text[f.start : f.end] for f in scan_text(text)}


@pytest.mark.parametrize("needle", ["양강도에서", "Yanggang", "혜산시장"])
def test_issue_examples_are_flagged(needle: str) -> None:
    text = (
        f"그때 {needle} 사람들이 많이 잡혔다"
        if needle != "Yanggang"
        else ("People from Yanggang were caught")
    )
    findings = scan_text(text)
    start = text.index(needle)
    assert any(f.start <= start < f.end for f in findings), needle
    assert needle not in redact(text, findings)


def test_hangul_places_with_particles_and_compounds() -> None:
    text = "양강도에서 왔어요. 혜산시장에서 장사를 했어요."
    flagged = _flagged(text)
    assert "양강도" in flagged and "혜산" in flagged
    assert redact(text, scan_text(text)) == "[place]에서 왔어요. [place]시장에서 장사를 했어요."


def test_romanised_variants() -> None:
    for text, name in [
        ("near Hoeryŏng", "Hoeryŏng"),
        ("P'yŏngan-bukto", "P'yŏngan-bukto"),
        ("in ryanggang-do", "ryanggang-do"),
        ("Hyesan-si", "Hyesan"),
        ("Dandong", "Dandong"),
    ]:
        assert any(name in found for found in _flagged(text)), text


def test_names_dates_ages_phones() -> None:
    text = (
        "I met Kim Chol-su and Mr. Pak on 3 March 2021; call 010-1234-5678 or "
        "+86 138 1234 5678. She was 34 years old. 김영희 씨는 2021년 3월에 떠났다. 45살"
    )
    flagged = _flagged(text)
    assert {
        "Kim Chol-su",
        "Mr. Pak",
        "3 March 2021",
        "010-1234-5678",
        "+86 138 1234 5678",
        "34 years old",
        "2021년 3월",
        "45살",
    } <= flagged
    assert "김영희" in flagged  # a proper noun found by kiwipiepy


def test_plain_text_is_not_flagged() -> None:
    assert scan_text("We could still buy rice at the market, but prices rose every week.") == []
    assert scan_text("시장에서 쌀을 살 수 있었지만 값이 계속 올랐다.") == []


def test_without_morphology_still_finds_gazetteer_places() -> None:
    assert [f.category for f in scan_text("양강도에서", morphology=False)] == ["place"]
