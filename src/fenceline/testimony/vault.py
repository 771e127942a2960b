"""The testimony vault: encrypted witness records inside the project GeoPackage.

Tables prefixed ``testimony_`` (not registered in ``gpkg_contents``, so GIS clients do not
list them) hold only ids, wrapped keys, ciphertexts, keyed hashes and, once a publication has
passed the disclosure check and two analysts' sign-off, its public text. Every change is one
SQLite transaction that also appends to the audit log; the connection keeps temporary data in
memory, zeroes deleted pages (``secure_delete``) and checkpoints the WAL after each write.

>>> import fenceline, tempfile, os
>>> from fenceline.testimony.keys import KeySource
>>> path = os.path.join(tempfile.mkdtemp(), "p.gpkg")
>>> fenceline.create(path).close()
>>> key = KeySource("keyfile", bytes(32))
>>> with Vault.init(path, key, analyst="ana") as vault:
...     wid = vault.add_witness({"age": 34, "sex": "female", "province": "Chagang",
...         "occupation": "farmer", "year_departed": 2018,
...         "contact_before_2020": "rare", "contact_after_2020": "none"})
...     vault.read_witness(wid).profile.province
'chagang'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fenceline.errors import (
    DecryptionError,
    DisclosureError,
    InputError,
    ParameterError,
    ProjectError,
)
from fenceline.settings import resolve_analyst
from fenceline.testimony import auditlog, keys
from fenceline.testimony.disclosure import (
    DEFAULT_K,
    DisclosureReport,
    check_disclosure,
    contact_counts,
    reference_population,
)
from fenceline.testimony.records import Excerpt, Interview, Profile, Witness

__all__ = [
    "SCHEMA_VERSION",
    "PublishResult",
    "Vault",
    "connect",
    "list_witnesses",
    "verify_audit_log",
]

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS testimony_keyring (
  version INTEGER PRIMARY KEY, kind TEXT NOT NULL, salt BLOB, scrypt_n INTEGER,
  scrypt_r INTEGER, scrypt_p INTEGER, check_blob BLOB NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS testimony_witnesses (
  witness_id TEXT PRIMARY KEY, key_version INTEGER, wrapped_key BLOB, created TEXT NOT NULL,
  shredded TEXT);
CREATE TABLE IF NOT EXISTS testimony_records (
  record_id TEXT PRIMARY KEY, witness_id TEXT NOT NULL, kind TEXT NOT NULL,
  version INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS testimony_records_witness ON testimony_records (witness_id);
CREATE TABLE IF NOT EXISTS testimony_publications (
  publication_id TEXT PRIMARY KEY, request TEXT NOT NULL, status TEXT NOT NULL,
  created TEXT NOT NULL, published TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS testimony_signoffs (
  publication_id TEXT NOT NULL, analyst TEXT NOT NULL, at TEXT NOT NULL, digest TEXT NOT NULL,
  PRIMARY KEY (publication_id, analyst));
CREATE TABLE IF NOT EXISTS testimony_published (
  publication_id TEXT NOT NULL, position INTEGER NOT NULL, witness_id TEXT NOT NULL,
  excerpt_id TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (publication_id, position));
"""

_CHECK_PLAINTEXT = b"fenceline testimony key check v1"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to a fenceline project for testimony (checked, WAL, secure settings)."""
    from fenceline.store.gpkg import GeoPackageStore

    GeoPackageStore.open(path).close()  # raises ProjectError unless a fenceline project
    db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def _aad(*parts: object) -> bytes:
    return "\x1f".join(str(p) for p in parts).encode()


@dataclass(frozen=True)
class PublishResult:
    """The outcome of one sign-off: ``status`` is ``"pending"`` or ``"published"``."""

    publication_id: str
    status: str
    analysts: tuple[str, ...]
    report: DisclosureReport


class Vault:
    """Encrypted testimony in a project. Open with :meth:`open` (or :meth:`init` once)."""

    def __init__(
        self, path: str, db: sqlite3.Connection, kek: bytes | None, key_version: int, analyst: str
    ) -> None:
        self.path = path
        self._db = db
        self._kek = kek
        self._key_version = key_version
        self.analyst = analyst

    # --- opening -----------------------------------------------------------------------
    @staticmethod
    def _ensure_schema(db: sqlite3.Connection) -> None:
        row = db.execute(
            "SELECT value FROM fenceline_meta WHERE key = 'testimony_schema_version'"
        ).fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise ProjectError("project", f"testimony schema {row[0]} is newer than this fenceline")
        if (
            row is None
            or not db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'testimony_records'"
            ).fetchone()
        ):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _DDL.split(";"):
                    if statement.strip():
                        db.execute(statement)
                auditlog.create_tables(db)
                db.execute(
                    "INSERT OR REPLACE INTO fenceline_meta VALUES (?, ?)",
                    ("testimony_schema_version", str(SCHEMA_VERSION)),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @staticmethod
    def _derive(source: keys.KeySource, salt: bytes | None, params: keys.ScryptParams) -> bytes:
        if source.kind == "keyfile":
            return source.secret
        assert salt is not None
        return params.derive(source.secret, salt)

    @classmethod
    def init(
        cls, path: str | os.PathLike[str], key_source: keys.KeySource, analyst: str | None = None
    ) -> Vault:
        """Set up the vault's key in a project (once); then use :meth:`open`."""
        db = connect(path)
        try:
            cls._ensure_schema(db)
            if db.execute("SELECT 1 FROM testimony_keyring").fetchone():
                raise ParameterError("testimony init", "this project already has a testimony key")
            vault = cls(str(path), db, None, 0, resolve_analyst(analyst))
            with vault._write("init", {"key": key_source.kind}):
                vault._add_keyring(key_source, version=1)
        except BaseException:
            db.close()
            raise
        return vault

    def _add_keyring(self, key_source: keys.KeySource, version: int) -> None:
        params = keys.ScryptParams.from_env()
        salt = os.urandom(16) if key_source.kind == "passphrase" else None
        kek = self._derive(key_source, salt, params)
        check = keys.seal(kek, _CHECK_PLAINTEXT, _aad("keyring", version))
        scrypt = (params.n, params.r, params.p) if salt else (None, None, None)
        self._db.execute(
            "INSERT INTO testimony_keyring VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (version, key_source.kind, salt, *scrypt, check, _now()),
        )
        self._kek, self._key_version = kek, version

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], key_source: keys.KeySource, analyst: str | None = None
    ) -> Vault:
        """Open the vault; a wrong passphrase or key file is a clear error, nothing changed."""
        db = connect(path)
        try:
            row = None
            if db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'testimony_keyring'"
            ).fetchone():
                cls._ensure_schema(db)  # refuses a newer testimony schema; writes nothing here
                row = db.execute(
                    "SELECT version, kind, salt, scrypt_n, scrypt_r, scrypt_p, check_blob "
                    "FROM testimony_keyring ORDER BY version DESC LIMIT 1"
                ).fetchone()
            if row is None:
                raise ParameterError(
                    "testimony",
                    "this project has no testimony key yet: run `fenceline testimony init`",
                )
            version, kind, salt, n, r, p, check = row
            if kind != key_source.kind:
                raise DecryptionError(
                    "key",
                    f"this project's testimony key is a {kind.replace('keyfile', 'key file')}",
                )
            params = keys.ScryptParams(n=n, r=r, p=p) if n else keys.ScryptParams()
            kek = cls._derive(key_source, salt, params)
            try:
                keys.open_sealed(kek, check, _aad("keyring", version), what="key")
            except DecryptionError:
                raise DecryptionError("key", "wrong passphrase or key file") from None
        except BaseException:
            db.close()
            raise
        return cls(str(path), db, kek, version, resolve_analyst(analyst))

    def close(self) -> None:
        self._kek = None
        self._db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------
    @property
    def _audit_key(self) -> bytes:
        assert self._kek is not None
        return keys.derive_subkey(self._kek, "audit")

    def _digest(self, *items: bytes) -> str:
        return keys.keyed_hash(self._audit_key, b"\x00".join(items))

    @contextmanager
    def _write(
        self, action: str, subject: dict[str, Any], digest: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """One transaction that also appends one audit entry; the WAL is checkpointed after."""
        self._db.execute("BEGIN IMMEDIATE")
        extra: dict[str, Any] = {}
        try:
            yield extra
            auditlog.append(
                self._db,
                analyst=self.analyst,
                action=action,
                subject={**subject, **extra.get("subject", {})},
                digest=extra.get("digest", digest),
                mac_key=self._audit_key,
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _witness_key(self, witness_id: str) -> bytes:
        row = self._db.execute(
            "SELECT key_version, wrapped_key, shredded FROM testimony_witnesses WHERE witness_id = ?",
            (witness_id,),
        ).fetchone()
        if row is None:
            raise ParameterError("witness", f"no witness {witness_id!r} in this project")
        version, wrapped, shredded = row
        if shredded or wrapped is None:
            raise DecryptionError(
                witness_id,
                "this witness's key was shredded; their records can no longer be decrypted",
            )
        assert self._kek is not None
        return keys.open_sealed(
            self._kek,
            wrapped,
            _aad("witness-key", witness_id, version),
            what=f"key of witness {witness_id}",
        )

    def _put(
        self, witness_id: str, record_id: str, kind: str, data: dict[str, Any], dek: bytes
    ) -> bytes:
        row = self._db.execute(
            "SELECT version, witness_id, kind FROM testimony_records WHERE record_id = ?",
            (record_id,),
        ).fetchone()
        if row is not None and (row[1], row[2]) != (witness_id, kind):
            raise InputError("id", f"{record_id!r} is already used")
        version = 1 if row is None else int(row[0]) + 1
        plaintext = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        sealed = keys.seal(dek, plaintext, _aad("record", record_id, kind, witness_id, version))
        self._db.execute(
            "INSERT OR REPLACE INTO testimony_records VALUES (?, ?, ?, ?, ?)",
            (record_id, witness_id, kind, version, sealed),
        )
        return plaintext

    def _get_all(self, witness_id: str, dek: bytes) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT record_id, kind, version, sealed FROM testimony_records WHERE witness_id = ? "
            "ORDER BY rowid",
            (witness_id,),
        ).fetchall()
        out = []
        for record_id, kind, version, sealed in rows:
            plaintext = keys.open_sealed(
                dek,
                sealed,
                _aad("record", record_id, kind, witness_id, version),
                what=f"record {record_id}",
            )
            try:
                out.append((record_id, kind, json.loads(plaintext)))
            except ValueError:
                raise DecryptionError(f"record {record_id}", "decrypted but unreadable") from None
        return out

    def _assemble(self, witness_id: str) -> Witness:
        dek = self._witness_key(witness_id)
        profile: Profile | None = None
        interviews: list[Interview] = []
        excerpts: list[Excerpt] = []
        for _record_id, kind, data in self._get_all(witness_id, dek):
            if kind == "profile":
                profile = Profile.from_dict(data)
            elif kind == "interview":
                interviews.append(Interview.from_dict(data))
            elif kind == "excerpt":
                excerpts.append(Excerpt.from_dict(data))
        if profile is None:
            raise DecryptionError(f"witness {witness_id}", "profile record is missing")
        return Witness(witness_id, profile, interviews, excerpts)

    # --- adding ------------------------------------------------------------------------
    def add_witness(
        self, profile: dict[str, Any] | Profile, interviews: Iterable[dict[str, Any]] = ()
    ) -> str:
        """Add a witness (profile and optional interviews); returns the new witness id."""
        if not isinstance(profile, Profile):
            profile = Profile.from_dict(profile)
        checked = [Interview.from_dict(i, f"interview {n}") for n, i in enumerate(interviews)]
        given = [i.id for i in checked if i.id]
        if len(set(given)) != len(given):
            raise InputError("interviews", "two interviews have the same id", field="id")
        for interview_id in given:
            self._unique(interview_id)
        witness_id = _new_id("w")
        dek = keys.new_key()
        assert self._kek is not None
        with self._write("add_witness", {"witness": witness_id}) as extra:
            wrapped = keys.seal(self._kek, dek, _aad("witness-key", witness_id, self._key_version))
            self._db.execute(
                "INSERT INTO testimony_witnesses VALUES (?, ?, ?, ?, NULL)",
                (witness_id, self._key_version, wrapped, _now()),
            )
            parts = [
                self._put(witness_id, f"{witness_id}:profile", "profile", profile.to_dict(), dek)
            ]
            ids = []
            for interview in checked:
                interview_id = interview.id or _new_id("iv")
                ids.append(interview_id)
                data = {**interview.to_dict(), "id": interview_id}
                parts.append(self._put(witness_id, interview_id, "interview", data, dek))
            extra["subject"] = {"interviews": ids}
            extra["digest"] = self._digest(*parts)
        return witness_id

    def _require_witness(self, witness_id: str) -> None:
        self._witness_key(witness_id)

    def add_interview(self, witness_id: str, interview: dict[str, Any]) -> str:
        """Add an interview to a witness; returns its id."""
        checked = Interview.from_dict(interview)
        dek = self._witness_key(witness_id)
        interview_id = checked.id or _new_id("iv")
        self._unique(interview_id)
        with self._write(
            "add_interview", {"witness": witness_id, "interview": interview_id}
        ) as extra:
            data = {**checked.to_dict(), "id": interview_id}
            extra["digest"] = self._digest(
                self._put(witness_id, interview_id, "interview", data, dek)
            )
        return interview_id

    def _unique(self, record_id: str) -> None:
        if ":" in record_id or not record_id.strip():
            raise InputError("id", "ids may not be empty or contain ':'")
        if self._db.execute(
            "SELECT 1 FROM testimony_records WHERE record_id = ?", (record_id,)
        ).fetchone():
            raise InputError("id", f"{record_id!r} is already used")

    def add_excerpt(self, witness_id: str, excerpt: dict[str, Any]) -> str:
        """Add an excerpt (text, topics, place, period) of a witness's interview."""
        checked = Excerpt.from_dict(excerpt)
        witness = self._assemble(witness_id)
        if checked.interview_id and checked.interview_id not in {i.id for i in witness.interviews}:
            raise InputError(
                "excerpt",
                f"witness {witness_id} has no interview {checked.interview_id!r}",
                field="interview_id",
            )
        excerpt_id = checked.id or _new_id("ex")
        self._unique(excerpt_id)
        dek = self._witness_key(witness_id)
        with self._write("add_excerpt", {"witness": witness_id, "excerpt": excerpt_id}) as extra:
            data = {**checked.to_dict(), "id": excerpt_id}
            extra["digest"] = self._digest(self._put(witness_id, excerpt_id, "excerpt", data, dek))
        return excerpt_id

    # --- reading -----------------------------------------------------------------------
    def list(self) -> list[dict[str, Any]]:
        """Witness ids with counts of their records (no content, no decryption)."""
        rows = self._db.execute(
            "SELECT w.witness_id, w.created, w.shredded, "
            "sum(r.kind = 'interview'), sum(r.kind = 'excerpt') "
            "FROM testimony_witnesses w LEFT JOIN testimony_records r USING (witness_id) "
            "GROUP BY w.witness_id ORDER BY w.created, w.witness_id"
        ).fetchall()
        return [
            {
                "witness": w,
                "created": c,
                "shredded": bool(s),
                "interviews": int(i or 0),
                "excerpts": int(e or 0),
            }
            for w, c, s, i, e in rows
        ]

    def read_witness(self, witness_id: str) -> Witness:
        """Decrypt one witness's records (audited as a read)."""
        witness = self._assemble(witness_id)
        with self._write(
            "read",
            {"witness": witness_id, "records": 1 + len(witness.interviews) + len(witness.excerpts)},
        ):
            pass
        return witness

    def _profiles(self) -> dict[str, Profile]:
        rows = self._db.execute(
            "SELECT witness_id FROM testimony_witnesses WHERE shredded IS NULL ORDER BY witness_id"
        ).fetchall()
        out = {}
        for (witness_id,) in rows:
            dek = self._witness_key(witness_id)
            row = self._db.execute(
                "SELECT version, sealed FROM testimony_records WHERE record_id = ?",
                (f"{witness_id}:profile",),
            ).fetchone()
            if row is None:
                raise DecryptionError(f"witness {witness_id}", "profile record is missing")
            record_id = f"{witness_id}:profile"
            plaintext = keys.open_sealed(
                dek,
                row[1],
                _aad("record", record_id, "profile", witness_id, row[0]),
                what=f"record {record_id}",
            )
            out[witness_id] = Profile.from_dict(json.loads(plaintext))
        return out

    def _selection(self, excerpt_ids: Sequence[str]) -> dict[str, list[Excerpt]]:
        if not excerpt_ids:
            raise ParameterError("--excerpt", "name at least one excerpt to publish")
        selected: dict[str, list[Excerpt]] = {}
        for excerpt_id in dict.fromkeys(excerpt_ids):
            row = self._db.execute(
                "SELECT witness_id FROM testimony_records WHERE record_id = ? AND kind = 'excerpt'",
                (excerpt_id,),
            ).fetchone()
            if row is None:
                raise ParameterError("--excerpt", f"no excerpt {excerpt_id!r} in this project")
            selected.setdefault(row[0], [])
        wanted = set(excerpt_ids)
        for witness_id in selected:
            witness = self._assemble(witness_id)
            selected[witness_id] = [e for e in witness.excerpts if e.id in wanted]
        return selected

    def check(
        self,
        excerpt_ids: Sequence[str],
        *,
        k: int = DEFAULT_K,
        reference: bool = True,
        redact: bool = False,
        suppress: bool = False,
    ) -> DisclosureReport:
        """Run the disclosure check on these excerpts (audited, no content in the log)."""
        if k < 2:
            raise ParameterError("--k", "must be at least 2")
        selected = self._selection(excerpt_ids)
        report = check_disclosure(
            self._profiles(),
            selected,
            k=k,
            reference=reference_population() if reference else None,
            redact_text=redact,
            suppress=suppress,
        )
        with self._write(
            "check", {"excerpts": sorted(set(excerpt_ids)), "k": k, "passed": report.passed}
        ):
            pass
        return report

    # --- publishing --------------------------------------------------------------------
    def publish(
        self,
        excerpt_ids: Sequence[str],
        *,
        k: int = DEFAULT_K,
        reference: bool = True,
        redact: bool = False,
        suppress: bool = False,
    ) -> PublishResult:
        """Sign off publishing these excerpts as this analyst.

        The disclosure check runs at every sign-off. The first sign-off leaves the publication
        pending; a second, *different* analyst signing off the identical outcome publishes it
        (replacing any earlier published set). The same analyst twice is refused.
        """
        if k < 2:
            raise ParameterError("--k", "must be at least 2")
        request = {
            "excerpts": sorted(set(excerpt_ids)),
            "k": k,
            "reference": reference,
            "redact": redact,
            "suppress": suppress,
        }
        request_text = json.dumps(request, sort_keys=True)
        publication_id = "pub-" + hashlib.sha256(request_text.encode()).hexdigest()[:12]
        selected = self._selection(excerpt_ids)
        profiles = self._profiles()
        report = check_disclosure(
            profiles,
            selected,
            k=k,
            reference=reference_population() if reference else None,
            redact_text=redact,
            suppress=suppress,
        )
        if not report.passed:
            with self._write(
                "publish_refused", {"publication": publication_id, "problems": len(report.problems)}
            ):
                pass
            raise DisclosureError(
                publication_id, "refused by the disclosure check: " + "; ".join(report.problems)
            )
        items = [item.to_public_dict() for item in report.items]
        candidate = json.dumps(items, ensure_ascii=False, sort_keys=True).encode()
        digest = self._digest(candidate)
        witness_of = {e.id: wid for wid, excerpts in selected.items() for e in excerpts}
        # one transaction: read the sign-offs, add this one, publish if it is the second
        # (two analysts signing at once cannot both miss each other)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute(
                "SELECT status FROM testimony_publications WHERE publication_id = ?",
                (publication_id,),
            ).fetchone()
            if row is not None and row[0] == "published":
                raise DisclosureError(publication_id, "is already published")
            signoffs = dict(
                self._db.execute(
                    "SELECT analyst, digest FROM testimony_signoffs WHERE publication_id = ?",
                    (publication_id,),
                ).fetchall()
            )
            if signoffs.get(self.analyst) == digest:
                raise DisclosureError(
                    publication_id,
                    f"{self.analyst} has already signed off; publishing needs "
                    "a second, different analyst's sign-off",
                )
            if row is None:
                self._db.execute(
                    "INSERT INTO testimony_publications VALUES (?, ?, 'pending', ?, NULL, NULL)",
                    (publication_id, request_text, _now()),
                )
            else:
                self._db.execute(
                    "UPDATE testimony_publications SET status = 'pending' WHERE publication_id = ?",
                    (publication_id,),
                )
            # a sign-off on an outcome that has since changed (data edited) no longer counts
            self._db.execute(
                "DELETE FROM testimony_signoffs WHERE publication_id = ? AND "
                "(digest != ? OR analyst = ?)",
                (publication_id, digest, self.analyst),
            )
            self._db.execute(
                "INSERT INTO testimony_signoffs VALUES (?, ?, ?, ?)",
                (publication_id, self.analyst, _now(), digest),
            )
            analysts = tuple(
                sorted(
                    a
                    for (a,) in self._db.execute(
                        "SELECT analyst FROM testimony_signoffs WHERE publication_id = ?",
                        (publication_id,),
                    )
                )
            )
            auditlog.append(
                self._db,
                analyst=self.analyst,
                action="signoff",
                subject={"publication": publication_id, "excerpts": len(items)},
                digest=digest,
                mac_key=self._audit_key,
            )
            status = "pending"
            if len(analysts) >= 2:
                status = "published"
                self._write_published(
                    publication_id,
                    report,
                    items,
                    witness_of,
                    profiles,
                    analysts,
                    k=k,
                    reference=reference,
                    redact=redact,
                )
                auditlog.append(
                    self._db,
                    analyst=self.analyst,
                    action="publish",
                    subject={
                        "publication": publication_id,
                        "excerpts": len(items),
                        "analysts": list(analysts),
                    },
                    digest=digest,
                    mac_key=self._audit_key,
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return PublishResult(publication_id, status, analysts, report)

    def _write_published(
        self,
        publication_id: str,
        report: DisclosureReport,
        items: list[dict[str, Any]],
        witness_of: dict[str, str],
        profiles: dict[str, Profile],
        analysts: tuple[str, ...],
        *,
        k: int,
        reference: bool,
        redact: bool,
    ) -> None:
        """Replace the published set by this publication (inside the caller's transaction)."""
        summary = {
            "k": k,
            "reference_population": reference,
            "redacted": redact,
            "levels": report.summary()["levels"],
            "signed_off_by": list(analysts),
            "contact_with_relatives": contact_counts(list(profiles.values()), k),
            "excerpts": len(items),
        }
        self._db.execute("DELETE FROM testimony_published")
        # re-publishing a superseded set needs two fresh sign-offs
        self._db.execute(
            "DELETE FROM testimony_signoffs WHERE publication_id IN (SELECT "
            "publication_id FROM testimony_publications WHERE status = 'published')"
        )
        self._db.execute(
            "UPDATE testimony_publications SET status = 'superseded' WHERE status = 'published'"
        )
        for position, (item, public) in enumerate(zip(report.items, items, strict=True)):
            self._db.execute(
                "INSERT INTO testimony_published VALUES (?, ?, ?, ?, ?)",
                (
                    publication_id,
                    position,
                    witness_of[item.excerpt_id],
                    item.excerpt_id,
                    json.dumps(public, ensure_ascii=False),
                ),
            )
        self._db.execute(
            "UPDATE testimony_publications SET status = 'published', published = ?, "
            "summary = ? WHERE publication_id = ?",
            (_now(), json.dumps(summary, ensure_ascii=False), publication_id),
        )

    def export(self, out: str | os.PathLike[str]) -> int:
        """Write the published set (public text only) to a JSON file; audited. Returns the
        number of excerpts. Refused when nothing has been published."""
        from fenceline.testimony.published import published_for_report

        published = published_for_report(self.path)
        if published is None:
            raise DisclosureError(
                "export",
                "nothing has been published (publishing needs the "
                "disclosure check and two analysts' sign-off)",
            )
        out = Path(out)
        data = json.dumps(published, ensure_ascii=False, indent=2).encode()
        with self._write(
            "export",
            {
                "publication": published["publication"],
                "excerpts": len(published["excerpts"]),
                "file": out.name,
            },
            digest=self._digest(data),
        ):
            tmp = out.with_name(out.name + ".writing")
            tmp.write_bytes(data)
            os.replace(tmp, out)
        return len(published["excerpts"])

    # --- keys --------------------------------------------------------------------------
    def rotate(self, new_key_source: keys.KeySource) -> int:
        """Replace the project key and every witness key, re-encrypting every record.

        Afterwards nothing in the project opens under the old key. Returns the number of
        records re-encrypted.
        """
        witnesses = self._db.execute(
            "SELECT witness_id FROM testimony_witnesses WHERE shredded IS NULL"
        ).fetchall()
        plaintexts: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for (witness_id,) in witnesses:
            plaintexts[witness_id] = self._get_all(witness_id, self._witness_key(witness_id))
        old_version = self._key_version
        count = 0
        with self._write(
            "rotate", {"from_version": old_version, "to_version": old_version + 1}
        ) as extra:
            self._add_keyring(new_key_source, version=old_version + 1)
            self._db.execute(
                "DELETE FROM testimony_keyring WHERE version < ?", (self._key_version,)
            )
            assert self._kek is not None
            for witness_id, records in plaintexts.items():
                dek = keys.new_key()
                wrapped = keys.seal(
                    self._kek, dek, _aad("witness-key", witness_id, self._key_version)
                )
                self._db.execute(
                    "UPDATE testimony_witnesses SET key_version = ?, wrapped_key = ? "
                    "WHERE witness_id = ?",
                    (self._key_version, wrapped, witness_id),
                )
                for record_id, kind, data in records:
                    self._put(witness_id, record_id, kind, data, dek)
                    count += 1
            # checkpoints are re-signed under the new audit key (their hashes are unchanged)
            for seq, entry_hash in self._db.execute(
                "SELECT seq, hash FROM testimony_audit_checkpoints"
            ).fetchall():
                self._db.execute(
                    "UPDATE testimony_audit_checkpoints SET mac = ? WHERE seq = ?",
                    (auditlog._mac(self._audit_key, seq, entry_hash), seq),
                )
            extra["subject"] = {"records": count}
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def shred(self, witness_id: str) -> None:
        """Crypto-shred a witness: delete their key (so their records can never be decrypted)
        and withdraw their excerpts from the published set. The audit keeps the ids."""
        self._witness_key(witness_id)  # unknown or already shredded: clear error
        with self._write("shred", {"witness": witness_id}) as extra:
            self._db.execute(
                "UPDATE testimony_witnesses SET wrapped_key = NULL, shredded = ? "
                "WHERE witness_id = ?",
                (_now(), witness_id),
            )
            withdrawn = self._db.execute(
                "DELETE FROM testimony_published WHERE witness_id = ?", (witness_id,)
            ).rowcount
            extra["subject"] = {"withdrawn_excerpts": withdrawn}
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def list_witnesses(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Witness ids and record counts of a project; needs no key and decrypts nothing."""
    db = connect(path)
    try:
        if not db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'testimony_witnesses'"
        ).fetchone():
            return []
        return Vault(str(path), db, None, 0, "").list()
    finally:
        db.close()


def verify_audit_log(
    path: str | os.PathLike[str],
    *,
    expect: str | None = None,
    key_source: keys.KeySource | None = None,
) -> dict[str, Any]:
    """Verify the testimony audit log of a project (see :func:`fenceline.testimony.auditlog.verify`).

    With ``key_source`` the checkpoints' MACs are checked too (a wrong key is an error).
    """
    mac_key = None
    if key_source is not None:
        with Vault.open(path, key_source) as vault:
            mac_key = vault._audit_key
    db = connect(path)
    try:
        return auditlog.verify(db, path=str(path), expect=expect, mac_key=mac_key)
    finally:
        db.close()
