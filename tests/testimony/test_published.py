"""The contract with `fenceline report`: published_for_report and the contact chart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from testimony_helpers import add_witnesses

from fenceline.errors import DisclosureError
from fenceline.testimony import KeySource, Vault, contact_chart_svg, published_for_report


def test_nothing_published_until_two_analysts_sign_off(
    vault: Vault, project: Path, key: KeySource
) -> None:
    assert published_for_report(project) is None
    pairs = add_witnesses(vault, 5)
    excerpts = [e for _, e in pairs]
    first = vault.publish(excerpts)
    assert first.status == "pending" and first.analysts == ("alice",)
    assert published_for_report(project) is None
    with pytest.raises(DisclosureError, match="second, different analyst"):
        vault.publish(excerpts)
    with pytest.raises(DisclosureError, match="nothing has been published"):
        vault.export(project.parent / "out.json")
    assert not (project.parent / "out.json").exists()
    with Vault.open(project, key, analyst="bob") as bob:
        second = bob.publish(excerpts)
    assert second.status == "published" and second.analysts == ("alice", "bob")
    data = published_for_report(project)
    assert data is not None
    assert data["signed_off_by"] == ["alice", "bob"] and data["k"] == 5
    assert [e["witness"] for e in data["excerpts"]] == [f"Witness {i}" for i in range(1, 6)]
    item = data["excerpts"][0]
    assert set(item) == {"witness", "descriptor", "topics", "huridocs", "place", "period", "text"}
    assert item["descriptor"] == (
        "a former trader in her 30s from Ryanggang province who left in 2018"
    )
    assert item["huridocs"] == ["Right to food"]
    contact = data["contact_with_relatives"]
    assert contact["before_2020"] == {"none": 0, "rare": 0, "regular": 5}
    assert contact["after_2020"] == {"none": 5, "rare": 0, "regular": 0}


def test_a_changed_outcome_needs_fresh_sign_offs(
    vault: Vault, project: Path, key: KeySource
) -> None:
    young = add_witnesses(vault, 3, age=34)
    add_witnesses(vault, 2, age=45)
    excerpts = [young[0][1]]
    first = vault.publish(excerpts)
    assert "30s" not in first.report.items[0].descriptor  # ages merged to reach k
    # more witnesses arrive: the same request now gets a more detailed descriptor
    add_witnesses(vault, 2, age=34)
    with Vault.open(project, key, analyst="bob") as bob:
        second = bob.publish(excerpts)
        assert "30s" in second.report.items[0].descriptor
        assert second.status == "pending" and second.analysts == ("bob",)
    assert published_for_report(project) is None
    assert vault.publish(excerpts).status == "published"  # alice signs the new outcome


def test_an_unchanged_outcome_keeps_its_sign_off(
    vault: Vault, project: Path, key: KeySource
) -> None:
    pairs = add_witnesses(vault, 5)
    excerpts = [e for _, e in pairs]
    vault.publish(excerpts)
    vault.add_excerpt(pairs[0][0], {"text": "later", "topics": ["food"]})  # not selected
    with Vault.open(project, key, analyst="bob") as bob:
        assert bob.publish(excerpts).status == "published"


def test_new_publication_supersedes_the_old(vault: Vault, project: Path, key: KeySource) -> None:
    pairs = add_witnesses(vault, 6)
    for chosen in ([e for _, e in pairs[:5]], [e for _, e in pairs[:2]]):
        vault.publish(chosen)
        with Vault.open(project, key, analyst="bob") as bob:
            bob.publish(chosen)
    data = published_for_report(project)
    assert data is not None and len(data["excerpts"]) == 2
    db = sqlite3.connect(project)
    statuses = sorted(s for (s,) in db.execute("SELECT status FROM testimony_publications"))
    db.close()
    assert statuses == ["published", "superseded"]
    # publishing the superseded set again needs two fresh sign-offs
    first_set = [e for _, e in pairs[:5]]
    assert vault.publish(first_set).status == "pending"
    assert len(published_for_report(project)["excerpts"]) == 2
    with Vault.open(project, key, analyst="carol") as carol:
        assert carol.publish(first_set).status == "published"
    assert len(published_for_report(project)["excerpts"]) == 5


def test_contact_chart_is_svg() -> None:
    svg = contact_chart_svg(
        {
            "witnesses": 7,
            "levels": ["none", "rare", "regular"],
            "before_2020": {"none": 1, "rare": 2, "regular": 4},
            "after_2020": {"none": 6, "rare": 1, "regular": 0},
        }
    )
    assert "<svg" in svg and "before 2020" in svg and "after 2020" in svg


def test_published_needs_no_key_and_reads_plain_projects(project: Path) -> None:
    assert published_for_report(project) is None  # no testimony tables at all
