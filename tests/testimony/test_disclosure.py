"""The disclosure check: k-anonymity against the vault and the real population."""

from __future__ import annotations

import pytest
from testimony_helpers import add_witnesses, profile

from fenceline.errors import DisclosureError
from fenceline.testimony import Vault, check_disclosure, describe
from fenceline.testimony.disclosure import reference_population
from fenceline.testimony.records import Excerpt, Period, Profile


def _p(**overrides: object) -> Profile:
    return Profile.from_dict(profile(**overrides))


def _e(i: int, period: str | None = "2018") -> Excerpt:
    return Excerpt(f"ex-{i}", "", "We waited at the market.", ("food",), None, Period.parse(period))


def test_descriptors_in_hrw_style() -> None:
    p = _p()
    assert describe(p, (0, 0, 0, 0, 0)) == (
        "a former trader in her 30s from Ryanggang province who left in 2018"
    )
    assert describe(p, (1, 2, 2, 2, 3)) == "a witness"
    assert describe(p, (0, 2, 2, 0, 3)) == "a woman who worked as a trader"
    assert describe(p, (1, 0, 0, 1, 1)) == (
        "a former market trader in their 30s from Ryanggang province who left between 2015 and 2019"
    )
    assert describe(_p(sex="male", year_departed=2021), (0, 2, 1, 2, 2)) == (
        "a man from a northern border province who left in 2020 or later"
    )


def test_k_identical_witnesses_publish_at_full_detail() -> None:
    profiles = {f"w{i}": _p() for i in range(5)}
    report = check_disclosure(
        profiles, {"w0": [_e(0)]}, k=5, reference=reference_population(), morphology=False
    )
    assert report.passed, report.problems
    assert report.levels == (0, 0, 0, 0, 0)
    assert report.items[0].descriptor == (
        "a former trader in her 30s from Ryanggang province who left in 2018"
    )
    # one fewer witness: the same descriptor would name a group of four
    del profiles["w4"]
    report = check_disclosure(profiles, {"w0": [_e(0)]}, k=5, morphology=False)
    assert not report.passed and report.suppressed == ["ex-0"]


def test_generalisation_finds_the_least_general_safe_descriptor() -> None:
    profiles = {
        f"a{i}": _p(age=34 + i % 2 * 10, occupation=["trader", "smuggler"][i % 2]) for i in range(6)
    }
    report = check_disclosure(profiles, {"a0": [_e(0)]}, k=5, morphology=False)
    assert report.passed
    assert report.levels[0] == 0 and report.levels[2] == 0  # sex and province kept
    assert "30s" not in report.items[0].descriptor
    assert "Ryanggang" in report.items[0].descriptor


def test_single_witness_who_left_after_2020_blocks_publication(vault: Vault) -> None:
    add_witnesses(vault, 6)
    ((_late, late_excerpt),) = add_witnesses(vault, 1, year_departed=2021, period="2021")
    report = vault.check([late_excerpt], k=5)
    assert not report.passed
    assert report.suppressed == [late_excerpt]
    assert "single out" in report.problems[0]
    with pytest.raises(DisclosureError, match="single out"):
        vault.publish([late_excerpt])
    # what their excerpt says (2021) would single them out even without their profile:
    # so it stays blocked even fully generalised, and suppression leaves nothing
    with pytest.raises(DisclosureError):
        vault.publish([late_excerpt], suppress=True)


def test_suppression_drops_only_the_witness_at_risk(vault: Vault) -> None:
    pairs = add_witnesses(vault, 6)
    ((_, late_excerpt),) = add_witnesses(vault, 1, year_departed=2021, period="2021")
    report = vault.check([e for _, e in pairs] + [late_excerpt], k=5, suppress=True)
    assert report.passed
    assert report.suppressed == [late_excerpt]
    assert {i.excerpt_id for i in report.items} == {e for _, e in pairs}
    assert all("2021" not in i.descriptor for i in report.items)


def test_reference_population_generalises_small_arrival_years() -> None:
    # 5 alike who left in 2021 among 45 others: the vault alone would let the full
    # descriptor through; 63 arrivals in 2021 times the shares of the rest is below k
    profiles = {f"late{i}": _p(year_departed=2021) for i in range(5)}
    profiles.update(
        {
            f"o{i}": _p(
                sex="male",
                age=55,
                province="North Hamgyong",
                occupation="farmer",
                year_departed=2010,
            )
            for i in range(45)
        }
    )
    selected = {"late0": [_e(0, "2021")]}
    without = check_disclosure(profiles, selected, k=5, morphology=False)
    assert without.passed and "2021" in without.items[0].descriptor
    assert "Ryanggang" in without.items[0].descriptor
    judged = check_disclosure(
        profiles, selected, k=5, reference=reference_population(), morphology=False
    )
    assert judged.passed
    descriptor = judged.items[0].descriptor
    count, estimate = judged.class_sizes["late0"]
    assert count >= 5 and estimate is not None and estimate >= 5
    assert "Ryanggang" not in descriptor or "2021" not in descriptor
    assert judged.levels > without.levels


def test_all_excerpts_of_a_witness_are_judged_together() -> None:
    profiles = {f"w{i}": _p(year_departed=2019 + (i == 0) * 3) for i in range(6)}
    # w0 left in 2022; one of their excerpts speaks of 2022, the other of 2018
    selected = {"w0": [_e(0, "2018"), _e(1, "2022")]}
    report = check_disclosure(profiles, selected, k=5, morphology=False)
    assert not report.passed
    assert report.suppressed == ["ex-0", "ex-1"]
    alone = check_disclosure(profiles, {"w0": [_e(0, "2018")]}, k=5, morphology=False)
    assert alone.passed  # the 2018 excerpt alone cannot tell w0 from the others


def test_text_findings_block_unless_redacted(vault: Vault) -> None:
    pairs = add_witnesses(vault, 5)
    witness_id = pairs[0][0]
    texts = {
        "양강도에서": "양강도에서 왔어요.",
        "Yanggang": "I am from Yanggang.",
        "혜산시장": "혜산시장에서 장사를 했어요.",
    }
    ids = {
        name: vault.add_excerpt(witness_id, {"text": t, "topics": ["trade"], "period": "2018"})
        for name, t in texts.items()
    }
    report = vault.check(list(ids.values()))
    assert not report.passed
    assert set(report.findings) == set(ids.values())
    for name, excerpt_id in ids.items():
        start = texts[name].index(name)
        assert any(
            f.category == "place" and f.start <= start < f.end for f in report.findings[excerpt_id]
        )
        assert any(excerpt_id in problem for problem in report.problems)
    redacted = vault.check(list(ids.values()), redact=True)
    assert redacted.passed
    for item in redacted.items:
        assert "[place]" in item.text
        assert not any(name in item.text for name in texts)
