"""A tamper-evident log of testimony reads, writes, exports and publications.

A hash chain: entry *n* holds ``prev`` = hash of entry *n-1* and ``hash`` = SHA-256 of its own
canonical fields and ``prev``. Entries hold ids, counts and keyed hashes (HMAC-SHA256 under a
key derived from the project key) only, never content. The head (last sequence number and
hash) is also kept in ``fenceline_meta`` and, with a MAC under the audit key, as a
**checkpoint** after every entry written with the key, so cutting entries off the end, or
rewriting the chain without the key, is detected. Anchor the head outside the project
(``fenceline audit verify PROJECT`` prints it; pass it back with ``--expect``) to detect a
rollback of the whole file.

>>> import sqlite3
>>> db = sqlite3.connect(":memory:", isolation_level=None)
>>> create_tables(db)
>>> _ = append(db, analyst="a", action="read", subject={"witness": "w-1"})
>>> verify(db, path=":memory:")["entries"]
1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from typing import Any

from fenceline.errors import IntegrityError

__all__ = ["append", "create_tables", "head", "verify"]

GENESIS = "0" * 64
_HEAD_KEY = "testimony_audit_head"

DDL = """
CREATE TABLE IF NOT EXISTS testimony_audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  analyst TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  digest TEXT,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS testimony_audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  mac TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fenceline_meta (key TEXT PRIMARY KEY, value TEXT);
"""


def create_tables(db: sqlite3.Connection) -> None:
    """Create the audit tables if missing (inside the caller's transaction, if any)."""
    for statement in DDL.split(";"):
        if statement.strip():
            db.execute(statement)


def _entry_hash(
    seq: int, at: str, analyst: str, action: str, subject: str, digest: str | None, prev: str
) -> str:
    canonical = json.dumps(
        [seq, at, analyst, action, subject, digest, prev], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _mac(key: bytes, seq: int, entry_hash: str) -> str:
    return hmac.new(key, f"{seq}:{entry_hash}".encode(), hashlib.sha256).hexdigest()


def head(db: sqlite3.Connection) -> tuple[int, str]:
    """(sequence number, hash) of the last entry; (0, zeros) for an empty log."""
    row = db.execute("SELECT seq, hash FROM testimony_audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(
    db: sqlite3.Connection,
    *,
    analyst: str,
    action: str,
    subject: dict[str, Any],
    digest: str | None = None,
    mac_key: bytes | None = None,
) -> int:
    """Append one entry (call inside the transaction of the change it records).

    ``subject`` holds ids and counts only; ``digest`` a keyed hash of what was touched.
    """
    seq, prev = head(db)
    seq += 1
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    subject_text = json.dumps(subject, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    entry_hash = _entry_hash(seq, at, analyst, action, subject_text, digest, prev)
    db.execute(
        "INSERT INTO testimony_audit (seq, at, analyst, action, subject, digest, prev, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, analyst, action, subject_text, digest, prev, entry_hash),
    )
    db.execute(
        "INSERT OR REPLACE INTO fenceline_meta (key, value) VALUES (?, ?)",
        (_HEAD_KEY, f"{seq}:{entry_hash}"),
    )
    if mac_key is not None:
        db.execute(
            "INSERT OR REPLACE INTO testimony_audit_checkpoints VALUES (?, ?, ?)",
            (seq, entry_hash, _mac(mac_key, seq, entry_hash)),
        )
    return seq


def verify(
    db: sqlite3.Connection,
    *,
    path: str,
    expect: str | None = None,
    mac_key: bytes | None = None,
) -> dict[str, Any]:
    """Check the whole chain; raise :class:`~fenceline.errors.IntegrityError` at the first
    entry that does not verify. Returns ``{"entries", "head", "checkpoints"}``.

    ``expect`` (``"SEQ:HASH"``, a head recorded earlier elsewhere) must lie on the chain.
    ``mac_key`` (the audit key) also checks every checkpoint's MAC.
    """
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "testimony_audit" not in tables:
        if expect:
            raise IntegrityError(path, "the audit log is missing")
        return {"entries": 0, "head": f"0:{GENESIS}", "checkpoints": 0}
    rows = db.execute(
        "SELECT seq, at, analyst, action, subject, digest, prev, hash FROM testimony_audit "
        "ORDER BY rowid"
    ).fetchall()
    prev = GENESIS
    hashes: dict[int, str] = {}
    for position, (
        seq,
        at,
        analyst,
        action,
        subject,
        digest,
        stored_prev,
        stored_hash,
    ) in enumerate(rows, start=1):
        if seq != position:
            raise IntegrityError(
                path,
                f"out of sequence (expected {position}): an entry was "
                "deleted or the entries were reordered",
                entry=seq,
            )
        if stored_prev != prev:
            raise IntegrityError(
                path,
                "does not follow the entry before it (deleted, reordered or edited entries)",
                entry=seq,
            )
        if _entry_hash(seq, at, analyst, action, subject, digest, stored_prev) != stored_hash:
            raise IntegrityError(path, "its content does not match its hash (edited)", entry=seq)
        hashes[seq] = stored_hash
        prev = stored_hash
    last = len(rows)
    head_text = f"{last}:{prev}"
    meta = db.execute("SELECT value FROM fenceline_meta WHERE key = ?", (_HEAD_KEY,)).fetchone()
    if meta is None and rows:
        raise IntegrityError(path, "the recorded audit head is missing")
    if meta is not None and meta[0] != head_text:
        recorded_seq = meta[0].split(":", 1)[0]
        raise IntegrityError(
            path,
            f"the log ends at entry {last} but the recorded head is entry "
            f"{recorded_seq} (entries cut off or rewritten)",
        )
    checkpoints = db.execute(
        "SELECT seq, hash, mac FROM testimony_audit_checkpoints ORDER BY seq"
    ).fetchall()
    for seq, checkpoint_hash, mac in checkpoints:
        if seq > last:
            raise IntegrityError(
                path, f"checkpoint at entry {seq} is beyond the end of the log (entries cut off)"
            )
        if hashes.get(seq) != checkpoint_hash:
            raise IntegrityError(path, "does not match its checkpoint (rewritten)", entry=seq)
        if mac_key is not None and not hmac.compare_digest(
            mac, _mac(mac_key, seq, checkpoint_hash)
        ):
            raise IntegrityError(
                path,
                "checkpoint MAC does not verify under the project key (forged or from another key)",
                entry=seq,
            )
    if expect:
        try:
            seq_text, expected_hash = expect.split(":", 1)
            expected_seq = int(seq_text)
        except ValueError:
            raise IntegrityError(
                path, "--expect must be SEQ:HASH as printed by audit verify"
            ) from None
        if hashes.get(expected_seq) != expected_hash:
            raise IntegrityError(
                path,
                f"the expected head (entry {expected_seq}) is not on the "
                "chain (the log was rolled back or rewritten)",
            )
    return {"entries": last, "head": head_text, "checkpoints": len(checkpoints)}
