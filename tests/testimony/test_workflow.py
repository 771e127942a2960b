"""The whole command-line workflow: canary absence, sign-off, bad input."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from testimony_helpers import PASSPHRASE, db_digest, profile, run_cli

from fenceline.testimony import published_for_report

CANARY = "CANARY-q7Zx93-witness-secret"
CANARY_KO = "카나리아비밀문자열"
CANARY_PHONE = "010-9876-5432"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


def _found_in(blob: bytes, needles: list[str]) -> list[str]:
    hits = []
    for needle in needles:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            if needle.encode(encoding) in blob:
                hits.append(f"{needle[:6]}…/{encoding}")
    return hits


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp))
    monkeypatch.setenv("FENCELINE_PASSPHRASE", PASSPHRASE)
    outputs: list[str] = []

    def call(
        *args: str, stdin: str | None = None, analyst: str = "alice", keep: bool = True
    ) -> tuple[int, str, str]:
        if stdin is not None:
            _stdin(monkeypatch, stdin)
        monkeypatch.setenv("FENCELINE_ANALYST", analyst)
        code, out, err = run_cli(list(args), capsys)
        if keep:
            outputs.append(out)
        outputs.append(err)
        return code, out, err

    call.outputs = outputs  # type: ignore[attr-defined]
    return call


def test_canary_never_reaches_disk_logs_or_output(
    cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    directory = tmp_path / "proj"
    directory.mkdir()
    project = str(directory / "p.gpkg")
    assert cli("init", project)[0] == 0
    assert cli("testimony", "init", project)[0] == 0
    witnesses = []
    for i in range(5):
        record = {
            "profile": profile(notes=f"{CANARY} {CANARY_KO} note {i}"),
            "interviews": [
                {
                    "id": f"iv{i}",
                    "date": "2023-05-01",
                    "language": "ko",
                    "interviewer": f"{CANARY} interviewer",
                    "notes": CANARY_KO,
                }
            ],
        }
        code, out, err = cli("testimony", "add", project, stdin=json.dumps(record))
        assert code == 0, err
        witnesses.append(out.split()[2])
    published = []
    for i, witness in enumerate(witnesses):
        text = (
            f"양강도에서 장사를 했어요. 전화는 {CANARY_PHONE} 였어요. 시장에서 쌀을 샀어요 {i}."
            if i == 0
            else f"We could buy rice at the market then ({i})."
        )
        code, out, err = cli(
            "testimony",
            "excerpt",
            project,
            witness,
            "-t",
            "food",
            "--interview",
            f"iv{i}",
            "--period",
            "2018",
            stdin=text,
        )
        assert code == 0, err
        published.append(out.split()[2])
        # a second, never published excerpt full of canaries
        code, _, err = cli(
            "testimony",
            "excerpt",
            project,
            witness,
            "-t",
            "detention",
            stdin=f"{CANARY} {CANARY_KO} was held with me.",
        )
        assert code == 0, err
    code, out, _ = cli("testimony", "list", project)
    assert code == 0 and all(w in out for w in witnesses)
    # reading decrypts: the canary is in show's own output (and nowhere else)
    code, shown, err = cli("testimony", "show", project, witnesses[0], keep=False)
    assert code == 0, err
    assert CANARY in shown and CANARY_KO in shown and CANARY_PHONE in shown
    excerpts = [a for e in published for a in ("-e", e)]
    code, out, _ = cli("testimony", "check", project, *excerpts)
    assert code == 1 and '"passed": false' in out  # the first excerpt needs redaction
    code, out, err = cli("testimony", "publish", project, *excerpts, "--redact")
    assert code == 0 and "waiting for a second" in out, err
    assert published_for_report(project) is None
    code, out, err = cli("testimony", "publish", project, *excerpts, "--redact")
    assert code == 2 and "second, different analyst" in err
    code, out, err = cli("testimony", "publish", project, *excerpts, "--redact", analyst="bob")
    assert code == 0 and "published 5 excerpt(s)" in out, err
    export = directory / "published.json"
    code, out, err = cli("testimony", "export", project, str(export))
    assert code == 0, err
    exported = json.loads(export.read_text())
    assert len(exported["excerpts"]) == 5
    assert exported["excerpts"][0]["text"].startswith("[place]에서 장사를 했어요. 전화는 [phone]")
    assert exported["contact_with_relatives"]["after_2020"]["none"] == 5
    code, out, err = cli("audit", "verify", project)
    assert code == 0, err
    # now look everywhere: every file (WAL, temporary files, export) and every output
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "p.gpkg" for p in files) and export in files
    for path in files:
        assert not _found_in(path.read_bytes(), [CANARY, CANARY_KO, CANARY_PHONE, PASSPHRASE]), (
            f"testimony found in {path.name}"
        )
    for text in [*cli.outputs, caplog.text]:
        assert not _found_in(text.encode(), [CANARY, CANARY_KO, CANARY_PHONE, PASSPHRASE]), (
            "testimony found in output"
        )
    report = published_for_report(project)
    assert report is not None and report["signed_off_by"] == ["alice", "bob"]


@pytest.fixture
def small_project(cli, tmp_path: Path) -> tuple[str, str, str]:
    project = str(tmp_path / "p.gpkg")
    cli("init", project)
    cli("testimony", "init", project)
    code, out, err = cli("testimony", "add", project, stdin=json.dumps({"profile": profile()}))
    assert code == 0, err
    witness = out.split()[2]
    code, out, err = cli("testimony", "excerpt", project, witness, "-t", "food", stdin="rice")
    assert code == 0, err
    return project, witness, out.split()[2]


def test_bad_input_is_exit_2_and_changes_nothing(
    cli, small_project: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, witness, excerpt = small_project
    before = db_digest(Path(project))

    def refused(*args: str, expect: str, stdin: str | None = None) -> None:
        code, out, err = cli(*args, stdin=stdin)
        assert code == 2, (args, err)
        assert err.startswith("error: ") and err.strip().count("\n") == 0
        assert expect in err and "Traceback" not in err
        assert CANARY not in err + out
        assert db_digest(Path(project)) == before

    monkeypatch.setenv("FENCELINE_PASSPHRASE", "wrong")
    refused("testimony", "show", project, witness, expect="wrong passphrase")
    refused(
        "testimony",
        "add",
        project,
        expect="wrong passphrase",
        stdin=json.dumps({"profile": profile()}),
    )
    monkeypatch.setenv("FENCELINE_PASSPHRASE", PASSPHRASE)
    refused("testimony", "show", project, "w-000000000000", expect="no witness")
    refused(
        "testimony",
        "excerpt",
        project,
        "w-000000000000",
        "-t",
        "food",
        stdin="x",
        expect="no witness",
    )
    refused("testimony", "publish", project, "-e", "ex-nope", expect="no excerpt")
    refused(
        "testimony",
        "add",
        project,
        stdin=json.dumps({"profile": profile(province=CANARY)}),
        expect="field 'province'",
    )
    refused("testimony", "add", project, stdin=f'{{"profile": "{CANARY}"', expect="not valid JSON")
    refused(
        "testimony",
        "excerpt",
        project,
        witness,
        "-t",
        "gossip",
        stdin=CANARY,
        expect="field 'topics'",
    )
    # a corrupt record
    db = sqlite3.connect(project)
    with db:
        (sealed,) = db.execute(
            "SELECT sealed FROM testimony_records WHERE record_id = ?", (excerpt,)
        ).fetchone()
        db.execute(
            "UPDATE testimony_records SET sealed = ? WHERE record_id = ?",
            (sealed[:40] + bytes([sealed[40] ^ 0xFF]) + sealed[41:], excerpt),
        )
    db.close()
    before = db_digest(Path(project))
    refused("testimony", "show", project, witness, expect=f"record {excerpt}")
    refused("testimony", "publish", project, "-e", excerpt, expect=f"record {excerpt}")
    monkeypatch.delenv("FENCELINE_PASSPHRASE")
    refused("testimony", "show", project, witness, expect="needs a key")


def test_real_process_exit_code_and_single_line(
    small_project: tuple[str, str, str], tmp_path: Path
) -> None:
    project, witness, _ = small_project
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("wrong")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fenceline",
            "testimony",
            "show",
            project,
            witness,
            "--passphrase-file",
            str(wrong),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr == "error: key: wrong passphrase or key file\n"
    assert result.stdout == ""


def test_key_file_rotate_shred_and_preview_on_the_command_line(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FENCELINE_PASSPHRASE")
    keys = tmp_path / "keys"
    keys.mkdir()
    project = str(tmp_path / "p.gpkg")
    old_key, new_pass = keys / "old.key", keys / "new.txt"
    new_pass.write_text("a brand new passphrase\n")
    assert cli("testimony", "keygen", str(old_key))[0] == 0
    assert cli("testimony", "keygen", str(old_key))[0] == 2  # never overwrites a key
    cli("init", project)
    assert cli("testimony", "init", project, "--key-file", str(old_key))[0] == 0
    witnesses, excerpts = [], []
    for _ in range(5):
        code, out, err = cli(
            "testimony",
            "add",
            project,
            "--key-file",
            str(old_key),
            stdin=json.dumps({"profile": profile()}),
        )
        assert code == 0, err
        witnesses.append(out.split()[2])
        code, out, err = cli(
            "testimony",
            "excerpt",
            project,
            witnesses[-1],
            "-t",
            "health",
            "--period",
            "2017",
            "--key-file",
            str(old_key),
            stdin="There was no medicine in the clinic.",
        )
        assert code == 0, err
        excerpts += ["-e", out.split()[2]]
    code, out, err = cli(
        "testimony", "check", project, *excerpts, "--preview", "--key-file", str(old_key)
    )
    assert code == 0, err
    preview = json.loads(out)["preview"]
    assert preview[0]["text"] == "There was no medicine in the clinic."
    assert preview[0]["huridocs"] == ["Right to health"]
    code, out, err = cli(
        "testimony",
        "rotate",
        project,
        "--key-file",
        str(old_key),
        "--new-passphrase-file",
        str(new_pass),
    )
    assert code == 0 and "re-encrypted 10 record(s)" in out, err
    code, _, err = cli("testimony", "show", project, witnesses[0], "--key-file", str(old_key))
    assert code == 2 and "testimony key is a passphrase" in err
    code, _, err = cli(
        "testimony", "shred", project, witnesses[0], "--passphrase-file", str(new_pass)
    )
    assert code == 2 and "--yes" in err
    code, _, err = cli(
        "testimony", "shred", project, witnesses[0], "--yes", "--passphrase-file", str(new_pass)
    )
    assert code == 0, err
    code, _, err = cli(
        "testimony", "show", project, witnesses[0], "--passphrase-file", str(new_pass)
    )
    assert code == 2 and "shredded" in err
    code, out, _ = cli("testimony", "list", project)
    assert "shredded" in out
    code, out, err = cli("audit", "verify", project, "--passphrase-file", str(new_pass))
    assert code == 0 and "checkpoint MACs" in out, err
