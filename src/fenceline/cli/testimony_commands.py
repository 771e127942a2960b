"""``fenceline testimony …`` and ``fenceline audit verify``.

The key comes from ``--passphrase-file``, ``--key-file`` or ``$FENCELINE_PASSPHRASE``, never
from a value on the command line. Testimony (profiles, excerpt text) is read from a file or
standard input, never from arguments, so it does not show in process lists or shell history.
Nothing here prints testimony content except ``testimony show``, whose purpose it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fenceline.cli.common import AnalystOption, ProjectArgument, console
from fenceline.errors import InputError, ParameterError

if TYPE_CHECKING:
    from fenceline.testimony import KeySource, Vault

__all__ = ["register"]

testimony_app = typer.Typer(
    name="testimony",
    help="Encrypted witness testimony: add, read, check and publish (see docs/testimony.md).",
    no_args_is_help=True,
)
audit_app = typer.Typer(name="audit", help="The tamper-evident audit log.", no_args_is_help=True)

PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file", help="File holding the passphrase (else $FENCELINE_PASSPHRASE)."
    ),
]
KeyFile = Annotated[
    Path | None, typer.Option("--key-file", help="File holding a 32-byte key (testimony keygen).")
]
InputOption = Annotated[
    str, typer.Option("--input", "-i", help="File to read from, or - for standard input.")
]
ExcerptOption = Annotated[
    list[str], typer.Option("--excerpt", "-e", help="Excerpt id (repeat for several).")
]
KOption = Annotated[int, typer.Option("--k", help="Smallest group a descriptor may describe.")]


def _print(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _key(passphrase_file: Path | None, key_file: Path | None) -> KeySource:
    from fenceline.testimony.keys import KeySource

    return KeySource.resolve(passphrase_file, key_file)


def _read_input(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
        name = "standard input"
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(source, f"cannot read ({exc.strerror})") from None
        name = source
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(name, "not UTF-8 text") from None
    if not text.strip():
        raise InputError(name, "is empty")
    return text


def _read_json(source: str) -> Any:
    text = _read_input(source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:  # position only: the text may be testimony
        raise InputError(
            "standard input" if source == "-" else source,
            f"not valid JSON (line {exc.lineno}, column {exc.colno})",
        ) from None


def _open(
    project: Path, passphrase_file: Path | None, key_file: Path | None, analyst: str | None
) -> Vault:
    from fenceline.testimony import Vault

    return Vault.open(project, _key(passphrase_file, key_file), analyst=analyst)


def init(
    project: ProjectArgument,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Set up the testimony key of a project (once)."""
    from fenceline.testimony import Vault

    with Vault.init(project, _key(passphrase_file, key_file), analyst=analyst):
        pass
    _print(f"{project}: testimony vault ready")


def keygen(out: Annotated[Path, typer.Argument(help="Key file to create (mode 0600).")]) -> None:
    """Write a new random key file for --key-file. Keep it off the project's disk."""
    from fenceline.testimony import write_key_file

    write_key_file(out)
    _print(f"wrote a new key to {out}")


def add(
    project: ProjectArgument,
    input: InputOption = "-",
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Add a witness from JSON: {"profile": {...}, "interviews": [{...}]}."""
    data = _read_json(input)
    if not isinstance(data, dict) or "profile" not in data:
        raise InputError("witness", 'expected a JSON object with a "profile"')
    unknown = set(data) - {"profile", "interviews"}
    if unknown:
        raise InputError("witness", f"unknown field(s): {', '.join(sorted(unknown))}")
    interviews = data.get("interviews") or []
    if not isinstance(interviews, list):
        raise InputError("witness", "must be a list", field="interviews")
    with _open(project, passphrase_file, key_file, analyst) as vault:
        witness_id = vault.add_witness(data["profile"], interviews)
        listed = next(w for w in vault.list() if w["witness"] == witness_id)
    _print(f"added witness {witness_id} ({listed['interviews']} interview(s))")


def interview(
    project: ProjectArgument,
    witness: Annotated[str, typer.Argument(help="Witness id.")],
    input: InputOption = "-",
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Add an interview from JSON: {"date", "language", "interviewer", "notes"}."""
    data = _read_json(input)
    with _open(project, passphrase_file, key_file, analyst) as vault:
        interview_id = vault.add_interview(witness, data)
    _print(f"added interview {interview_id} to witness {witness}")


def excerpt(
    project: ProjectArgument,
    witness: Annotated[str, typer.Argument(help="Witness id.")],
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Topic (repeat).")
    ] = None,
    interview_id: Annotated[str | None, typer.Option("--interview", help="Interview id.")] = None,
    period: Annotated[str | None, typer.Option(help="Years spoken of: 2021 or 2019-2021.")] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Input is a JSON excerpt object (text, topics, place, period, interview_id).",
        ),
    ] = False,
    input: InputOption = "-",
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Add an excerpt: its text from --input (or a JSON object with --json, which can also
    carry a place: a province, a known town, or {"lon", "lat"}, coarsened before storing)."""
    if as_json:
        data = _read_json(input)
        if not isinstance(data, dict):
            raise InputError("excerpt", "expected a JSON object")
    else:
        data = {"text": _read_input(input).strip()}
    if topic:
        data["topics"] = topic
    if interview_id:
        data["interview_id"] = interview_id
    if period:
        data["period"] = period
    with _open(project, passphrase_file, key_file, analyst) as vault:
        excerpt_id = vault.add_excerpt(witness, data)
    _print(f"added excerpt {excerpt_id} to witness {witness}")


def list_(
    project: ProjectArgument,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """List witnesses (ids and counts only; needs no key)."""
    from fenceline.testimony.vault import list_witnesses

    rows = list_witnesses(project)
    if fmt == "json":
        _print(json.dumps(rows, indent=2))
        return
    if fmt != "table":
        raise ParameterError("--format", "must be table or json")
    _print(f"{'witness':<16} {'interviews':>10} {'excerpts':>8}  status")
    for row in rows:
        status = "shredded" if row["shredded"] else ""
        _print(f"{row['witness']:<16} {row['interviews']:>10} {row['excerpts']:>8}  {status}")


def show(
    project: ProjectArgument,
    witness: Annotated[str, typer.Argument(help="Witness id.")],
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Decrypt and print one witness's records as JSON (audited as a read)."""
    with _open(project, passphrase_file, key_file, analyst) as vault:
        record = vault.read_witness(witness)
    out = {
        "witness": record.id,
        "profile": record.profile.to_dict(),
        "interviews": [i.to_dict() for i in record.interviews],
        "excerpts": [e.to_dict() for e in record.excerpts],
    }
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


def _options(k: int, no_reference: bool, redact: bool, suppress: bool) -> dict[str, Any]:
    return {"k": k, "reference": not no_reference, "redact": redact, "suppress": suppress}


NoReference = Annotated[
    bool,
    typer.Option(
        "--no-reference", help="Judge k in the vault only, not also against arrivals per year."
    ),
]
Redact = Annotated[
    bool,
    typer.Option(
        "--redact", help="Replace names, places, dates and phone numbers found in the text."
    ),
]
Suppress = Annotated[
    bool,
    typer.Option(
        "--suppress", help="Drop excerpts of witnesses who would be singled out, publish the rest."
    ),
]


def check(
    project: ProjectArgument,
    excerpt_ids: ExcerptOption,
    k: KOption = 5,
    no_reference: NoReference = False,
    redact: Redact = False,
    suppress: Suppress = False,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="If the check passes, also print what would be published "
            "(descriptors and text), for the analysts to review before signing off.",
        ),
    ] = False,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Run the disclosure check (prints ids, levels and findings' positions, no content);
    exit 1 when it does not pass."""
    with _open(project, passphrase_file, key_file, analyst) as vault:
        report = vault.check(excerpt_ids, **_options(k, no_reference, redact, suppress))
    out = report.summary()
    if preview and report.passed:
        out["preview"] = [item.to_public_dict() for item in report.items]
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    if not report.passed:
        raise typer.Exit(1)


def publish(
    project: ProjectArgument,
    excerpt_ids: ExcerptOption,
    k: KOption = 5,
    no_reference: NoReference = False,
    redact: Redact = False,
    suppress: Suppress = False,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Sign off publishing these excerpts (the disclosure check must pass).

    The first analyst's sign-off leaves them pending; a second, different analyst running the
    same command publishes them.
    """
    with _open(project, passphrase_file, key_file, analyst) as vault:
        result = vault.publish(excerpt_ids, **_options(k, no_reference, redact, suppress))
    who = ", ".join(result.analysts)
    if result.status == "published":
        _print(
            f"{result.publication_id}: published {len(result.report.items)} excerpt(s), "
            f"signed off by {who}"
        )
    else:
        _print(
            f"{result.publication_id}: check passed, signed off by {who}; waiting for a "
            "second analyst's sign-off (run the same command as another analyst)"
        )


def export(
    project: ProjectArgument,
    out: Annotated[Path, typer.Argument(help="JSON file to write the published set to.")],
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Export the published set (public text only; audited)."""
    with _open(project, passphrase_file, key_file, analyst) as vault:
        n = vault.export(out)
    _print(f"exported {n} published excerpt(s) to {out}")


def rotate(
    project: ProjectArgument,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--new-passphrase-file", help="The new passphrase (else $FENCELINE_NEW_PASSPHRASE)."
        ),
    ] = None,
    new_key_file: Annotated[Path | None, typer.Option("--new-key-file")] = None,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Replace the project key and every witness key, re-encrypting all records."""
    import os

    from fenceline.testimony.keys import KeySource

    if new_passphrase_file or new_key_file:
        new = KeySource.resolve(
            new_passphrase_file,
            new_key_file,
            option_names=("--new-passphrase-file", "--new-key-file"),
        )
    elif os.environ.get("FENCELINE_NEW_PASSPHRASE"):
        new = KeySource("passphrase", os.environ["FENCELINE_NEW_PASSPHRASE"].encode())
    else:
        raise ParameterError(
            "--new-passphrase-file",
            "give the new key: --new-passphrase-file, --new-key-file or $FENCELINE_NEW_PASSPHRASE",
        )
    with _open(project, passphrase_file, key_file, analyst) as vault:
        n = vault.rotate(new)
    _print(f"rotated the testimony key; re-encrypted {n} record(s)")


def shred(
    project: ProjectArgument,
    witness: Annotated[str, typer.Argument(help="Witness id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    analyst: AnalystOption = None,
) -> None:
    """Crypto-shred a witness: delete their key; their records become unreadable for good."""
    if not yes:
        raise ParameterError("--yes", "shredding cannot be undone; add --yes to confirm")
    with _open(project, passphrase_file, key_file, analyst) as vault:
        vault.shred(witness)
    _print(f"shredded witness {witness}")


def audit_verify(
    project: ProjectArgument,
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect", help="A head recorded earlier (SEQ:HASH) that must still be on the chain."
        ),
    ] = None,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
) -> None:
    """Verify the testimony audit log; with a key (files or $FENCELINE_PASSPHRASE), also the
    checkpoints' MACs. Prints the head: keep it elsewhere and pass it back with --expect."""
    import os

    from fenceline.testimony.vault import verify_audit_log

    has_key = passphrase_file or key_file or os.environ.get("FENCELINE_PASSPHRASE")
    key = _key(passphrase_file, key_file) if has_key else None
    result = verify_audit_log(project, expect=expect, key_source=key)
    macs = " and checkpoint MACs" if key else ""
    _print(
        f"{project}: audit log verified{macs}: {result['entries']} entries, head {result['head']}"
    )


def register(app: typer.Typer) -> None:
    testimony_app.command("init")(init)
    testimony_app.command("keygen")(keygen)
    testimony_app.command("add")(add)
    testimony_app.command("interview")(interview)
    testimony_app.command("excerpt")(excerpt)
    testimony_app.command("list")(list_)
    testimony_app.command("show")(show)
    testimony_app.command("check")(check)
    testimony_app.command("publish")(publish)
    testimony_app.command("export")(export)
    testimony_app.command("rotate")(rotate)
    testimony_app.command("shred")(shred)
    audit_app.command("verify")(audit_verify)
    app.add_typer(testimony_app)
    app.add_typer(audit_app)
