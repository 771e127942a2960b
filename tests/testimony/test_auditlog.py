"""The tamper-evident audit log and `fenceline audit verify`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from testimony_helpers import PASSPHRASE, add_witnesses, run_cli

from fenceline.testimony import Vault
from fenceline.testimony.auditlog import _entry_hash


@pytest.fixture
def logged(vault: Vault, project: Path) -> Path:
    """A project whose audit log has several entries (adds, reads, a check)."""
    pairs = add_witnesses(vault, 2)
    vault.read_witness(pairs[0][0])
    vault.check([pairs[0][1]], k=2)
    return project


def _verify(project: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code, out, err = run_cli(["audit", "verify", str(project), *extra], capsys)
    return code, out + err


def _sql(project: Path, *statements: str) -> None:
    db = sqlite3.connect(project)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def _entries(project: Path) -> list[tuple]:
    db = sqlite3.connect(project)
    rows = db.execute("SELECT * FROM testimony_audit ORDER BY seq").fetchall()
    db.close()
    return rows


def test_intact_log_verifies(
    logged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = _verify(logged, capsys)
    assert code == 0, out
    assert "verified" in out
    actions = [row[3] for row in _entries(logged)]
    assert actions[:3] == ["init", "add_witness", "add_excerpt"]
    assert "read" in actions and "check" in actions
    # entries hold ids and keyed hashes only
    for row in _entries(logged):
        subject = json.loads(row[4])
        assert set(subject) <= {
            "witness",
            "excerpt",
            "excerpts",
            "interviews",
            "interview",
            "records",
            "k",
            "passed",
            "key",
        }
    monkeypatch.setenv("FENCELINE_PASSPHRASE", PASSPHRASE)
    code, out = _verify(logged, capsys)
    assert code == 0 and "checkpoint MACs" in out


def test_edit_is_detected(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(logged, "UPDATE testimony_audit SET analyst = 'mallory' WHERE seq = 2")
    code, out = _verify(logged, capsys)
    assert code == 1 and "audit entry 2" in out and "edited" in out
    assert out.count("\n") == 1 and "Traceback" not in out


def test_delete_is_detected(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(logged, "DELETE FROM testimony_audit WHERE seq = 3")
    code, out = _verify(logged, capsys)
    assert code == 1 and "audit entry 4" in out


def test_reorder_is_detected(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _entries(logged)
    second, third = rows[1], rows[2]
    db = sqlite3.connect(logged)
    with db:
        for seq, row in ((2, third), (3, second)):
            db.execute(
                "UPDATE testimony_audit SET at=?, analyst=?, action=?, subject=?, "
                "digest=?, prev=?, hash=? WHERE seq=?",
                (*row[1:], seq),
            )
    db.close()
    code, out = _verify(logged, capsys)
    assert code == 1 and "audit entry 2" in out


def test_rehashed_rewrite_is_detected_by_checkpoints(
    logged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a careful forger edits entry 2 and recomputes every hash after it, and the head
    rows = _entries(logged)
    prev = "0" * 64
    db = sqlite3.connect(logged)
    with db:
        for seq, at, analyst, action, subject, digest, _, _ in rows:
            if seq == 2:
                analyst = "mallory"
            new_hash = _entry_hash(seq, at, analyst, action, subject, digest, prev)
            db.execute(
                "UPDATE testimony_audit SET analyst=?, prev=?, hash=? WHERE seq=?",
                (analyst, prev, new_hash, seq),
            )
            prev = new_hash
        db.execute(
            "UPDATE fenceline_meta SET value=? WHERE key='testimony_audit_head'",
            (f"{len(rows)}:{prev}",),
        )
    db.close()
    code, out = _verify(logged, capsys)
    assert code == 1 and "checkpoint" in out
    # ... and if they recompute the checkpoints too, only the key can tell
    db = sqlite3.connect(logged)
    with db:
        db.execute(
            "UPDATE testimony_audit_checkpoints SET hash = "
            "(SELECT hash FROM testimony_audit a WHERE a.seq = "
            "testimony_audit_checkpoints.seq)"
        )
    db.close()
    assert _verify(logged, capsys)[0] == 0
    passphrase = logged.parent.parent / "pass.txt"
    passphrase.write_text(PASSPHRASE)
    code, out = _verify(logged, capsys, "--passphrase-file", str(passphrase))
    assert code == 1 and "MAC" in out


def test_truncation_is_detected(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify(logged, capsys)
    head = out.split("head ")[1].split()[0]
    _sql(logged, "DELETE FROM testimony_audit WHERE seq > 3")
    code, out = _verify(logged, capsys)
    assert code == 1 and "cut off" in out
    # the forger also moves the recorded head back and drops the checkpoints:
    rows = _entries(logged)
    _sql(
        logged,
        f"UPDATE fenceline_meta SET value = '3:{rows[-1][7]}' WHERE key = 'testimony_audit_head'",
        "DELETE FROM testimony_audit_checkpoints WHERE seq > 3",
    )
    assert _verify(logged, capsys)[0] == 0
    # a head anchored elsewhere (printed by an earlier verify) still catches it
    code, out = _verify(logged, capsys, "--expect", head)
    assert code == 1 and "rolled back" in out


def test_cli_exit_codes_in_a_real_process(logged: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "fenceline", "audit", "verify", str(logged)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    _sql(logged, "UPDATE testimony_audit SET action = 'nothing' WHERE seq = 1")
    bad = subprocess.run(
        [sys.executable, "-m", "fenceline", "audit", "verify", str(logged)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "audit entry 1" in bad.stderr
    assert "Traceback" not in bad.stderr
