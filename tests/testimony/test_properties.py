"""Property tests: the disclosure check against a brute-force recount; round trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenceline.testimony import check_disclosure, vocab
from fenceline.testimony.disclosure import generalise, reference_population
from fenceline.testimony.records import Excerpt, Interview, Period, Profile
from fenceline.testimony.scan import redact, scan_text

profiles_strategy = st.builds(
    Profile,
    age_band=st.sampled_from(vocab.AGE_BANDS),
    sex=st.sampled_from(vocab.SEXES),
    province=st.sampled_from(["ryanggang", "north_hamgyong", "chagang", "south_pyongan"]),
    occupation=st.sampled_from(["trader", "farmer", "soldier", "homemaker"]),
    year_departed=st.integers(2012, 2023),
    contact_before_2020=st.sampled_from(vocab.CONTACT_LEVELS),
    contact_after_2020=st.sampled_from(vocab.CONTACT_LEVELS),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.lists(profiles_strategy, min_size=1, max_size=30),
    chosen=st.lists(st.integers(0, 29), min_size=1, max_size=6),
    periods=st.lists(st.integers(2010, 2023), min_size=6, max_size=6),
    k=st.integers(2, 6),
    with_reference=st.booleans(),
)
def test_every_published_witness_hides_in_a_group_of_k(
    people: list[Profile], chosen: list[int], periods: list[int], k: int, with_reference: bool
) -> None:
    profiles = {f"w{i}": p for i, p in enumerate(people)}
    selected = {}
    for n, index in enumerate(sorted({i % len(people) for i in chosen})):
        year = min(periods[n], people[index].year_departed)  # nobody speaks of after leaving
        selected[f"w{index}"] = [
            Excerpt(f"e{index}", "", "rice", ("food",), None, Period(year, year))
        ]
    reference = reference_population() if with_reference else None
    report = check_disclosure(
        profiles, selected, k=k, reference=reference, morphology=False, suppress=True
    )
    published = {item.excerpt_id[1:] for item in report.items}
    for index in published:
        witness = profiles[f"w{index}"]
        key = generalise(witness, report.levels)
        since = selected[f"w{index}"][0].period.end_year
        # brute force: everyone in the vault the descriptor and the excerpt both fit
        group = [
            p
            for p in profiles.values()
            if generalise(p, report.levels) == key and p.year_departed >= since
        ]
        assert len(group) >= k
        if reference is not None:
            low, high = key[4]
            estimate = sum(n for year, n in reference.items() if max(low, since) <= year <= high)
            for i in range(4):
                if key[i] != "*":
                    estimate *= sum(
                        generalise(p, report.levels)[i] == key[i] for p in profiles.values()
                    ) / len(profiles)
            assert estimate >= k - 1e-9
    # every selected excerpt is either published or suppressed, none lost or invented
    assert set(report.suppressed) | {f"e{i}" for i in published} == {
        e.id for excerpts in selected.values() for e in excerpts
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "양강도에서",
                "혜산시장",
                "Yanggang",
                "Hoeryŏng",
                "Musan",
                "market",
                "rice",
                "we",
                "쌀을",
                "샀다",
                "2021",
                "and",
                "the",
                "Dandong",
                "회령",
                ".",
            ]
        ),
        min_size=1,
        max_size=12,
    )
)
def test_redacted_text_has_no_gazetteer_place_left(words: list[str]) -> None:
    text = " ".join(words)
    redacted = redact(text, scan_text(text, morphology=False))
    assert [f for f in scan_text(redacted, morphology=False) if f.category == "place"] == []


def test_records_round_trip() -> None:
    excerpt = Excerpt.from_dict(
        {
            "id": "ex-1",
            "text": "t",
            "topics": ["food", "health"],
            "place": {"lon": 129.1, "lat": 42.3},
            "period": "2019-2021",
        }
    )
    assert excerpt.place == "cell:0.5:129.0:42.0"
    assert Excerpt.from_dict(excerpt.to_dict()) == excerpt
    interview = Interview.from_dict(
        {"id": "iv", "date": "2023-01-02", "language": "ko", "interviewer": "x"}
    )
    assert Interview.from_dict(interview.to_dict()) == interview
    assert vocab.coarsen_place("회령") == "province:north_hamgyong"
    assert vocab.coarsen_place("Dandong") == "outside:china"
