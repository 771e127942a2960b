"""Encryption at rest: tampering, rotation, shredding, wrong keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from testimony_helpers import add_witnesses, db_digest, profile

from fenceline.errors import DecryptionError, InputError, ParameterError
from fenceline.testimony import KeySource, Vault, published_for_report, verify_audit
from fenceline.testimony import keys as keymod
from fenceline.testimony.vault import _aad, connect, verify_audit_log


def _records(path: Path) -> list[tuple[str, str, str, int, bytes]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT record_id, witness_id, kind, version, sealed "
            "FROM testimony_records ORDER BY record_id"
        ).fetchall()
    finally:
        db.close()


def _set_sealed(path: Path, record_id: str, sealed: bytes) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE testimony_records SET sealed = ? WHERE record_id = ?", (sealed, record_id)
        )
    db.close()


def test_seal_binds_associated_data() -> None:
    key = keymod.new_key()
    blob = keymod.seal(key, b"text", b"record-1")
    assert keymod.open_sealed(key, blob, b"record-1", what="r") == b"text"
    with pytest.raises(DecryptionError):
        keymod.open_sealed(key, blob, b"record-2", what="r")
    with pytest.raises(DecryptionError):
        keymod.open_sealed(keymod.new_key(), blob, b"record-1", what="r")


def test_bit_flip_fails_to_decrypt(vault: Vault, project: Path) -> None:
    ((witness_id, excerpt_id),) = add_witnesses(vault, 1)
    record = dict((r[0], r[4]) for r in _records(project))[excerpt_id]
    for position in (0, 12, len(record) // 2, len(record) - 1):  # nonce, body, tag
        flipped = bytearray(record)
        flipped[position] ^= 0x01
        _set_sealed(project, excerpt_id, bytes(flipped))
        with pytest.raises(DecryptionError, match=f"record {excerpt_id}"):
            vault.read_witness(witness_id)
    _set_sealed(project, excerpt_id, record)
    assert vault.read_witness(witness_id).excerpts[0].id == excerpt_id


def test_swapped_ciphertexts_fail(vault: Vault, project: Path) -> None:
    # same witness: two excerpts swapped; different witnesses: profiles swapped
    witness_id = vault.add_witness(profile())
    first = vault.add_excerpt(witness_id, {"text": "one", "topics": ["food"]})
    second = vault.add_excerpt(witness_id, {"text": "two", "topics": ["food"]})
    other = vault.add_witness(profile(sex="male"))
    sealed = {r[0]: r[4] for r in _records(project)}
    _set_sealed(project, first, sealed[second])
    _set_sealed(project, second, sealed[first])
    with pytest.raises(DecryptionError):
        vault.read_witness(witness_id)
    _set_sealed(project, first, sealed[first])
    _set_sealed(project, second, sealed[second])
    _set_sealed(project, f"{witness_id}:profile", sealed[f"{other}:profile"])
    with pytest.raises(DecryptionError):
        vault.read_witness(witness_id)
    # a wrapped witness key moved to another witness does not unwrap either
    _set_sealed(project, f"{witness_id}:profile", sealed[f"{witness_id}:profile"])
    db = sqlite3.connect(project)
    with db:
        wrapped = dict(db.execute("SELECT witness_id, wrapped_key FROM testimony_witnesses"))
        db.execute(
            "UPDATE testimony_witnesses SET wrapped_key = ? WHERE witness_id = ?",
            (wrapped[other], witness_id),
        )
    db.close()
    with pytest.raises(DecryptionError, match=f"key of witness {witness_id}"):
        vault.read_witness(witness_id)


def test_record_version_is_bound(vault: Vault, project: Path) -> None:
    ((witness_id, _),) = add_witnesses(vault, 1)
    db = sqlite3.connect(project)
    with db:
        db.execute("UPDATE testimony_records SET version = version + 1 WHERE kind = 'profile'")
    db.close()
    with pytest.raises(DecryptionError, match="profile"):
        vault.read_witness(witness_id)


def test_wrong_passphrase_is_clear_and_changes_nothing(vault: Vault, project: Path) -> None:
    add_witnesses(vault, 1)
    before = db_digest(project)
    with pytest.raises(DecryptionError, match="wrong passphrase or key file"):
        Vault.open(project, KeySource("passphrase", b"not it"))
    with pytest.raises(DecryptionError, match="passphrase"):
        Vault.open(project, KeySource("keyfile", bytes(32)))
    assert db_digest(project) == before


def test_key_file_vault(project: Path, tmp_path: Path) -> None:
    key_path = tmp_path / "vault.key"
    keymod.write_key_file(key_path)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    source = KeySource.resolve(key_file=key_path)
    with Vault.init(project, source, analyst="a") as vault:
        witness_id = vault.add_witness(profile())
    with Vault.open(project, KeySource.resolve(key_file=key_path)) as vault:
        assert vault.read_witness(witness_id).profile.sex == "female"
    keymod.write_key_file(tmp_path / "other.key")
    with pytest.raises(DecryptionError):
        Vault.open(project, KeySource.resolve(key_file=tmp_path / "other.key"))


def test_rotation_leaves_nothing_readable_under_the_old_key(
    vault: Vault, project: Path, key: KeySource
) -> None:
    pairs = add_witnesses(vault, 2)
    old_kek = vault._kek
    assert old_kek is not None
    old_records = _records(project)
    db = sqlite3.connect(project)
    old_wrapped = dict(db.execute("SELECT witness_id, wrapped_key FROM testimony_witnesses"))
    db.close()
    old_deks = {
        w: keymod.open_sealed(old_kek, k, _aad("witness-key", w, 1), what="k")
        for w, k in old_wrapped.items()
    }
    new_key = KeySource("passphrase", b"a new passphrase")
    assert vault.rotate(new_key) == len(old_records)
    vault.close()
    with pytest.raises(DecryptionError, match="wrong passphrase"):
        Vault.open(project, key)
    db = sqlite3.connect(project)
    rows = db.execute(
        "SELECT witness_id, key_version, wrapped_key FROM testimony_witnesses"
    ).fetchall()
    records = db.execute(
        "SELECT record_id, witness_id, kind, version, sealed FROM testimony_records"
    ).fetchall()
    db.close()
    for witness_id, version, wrapped in rows:  # old project key unwraps no witness key
        with pytest.raises(DecryptionError):
            keymod.open_sealed(old_kek, wrapped, _aad("witness-key", witness_id, version), what="k")
    for record_id, witness_id, kind, version, sealed in records:  # old data keys open nothing
        with pytest.raises(DecryptionError):
            keymod.open_sealed(
                old_deks[witness_id],
                sealed,
                _aad("record", record_id, kind, witness_id, version),
                what="r",
            )
    old_blobs = {r[4] for r in old_records}
    assert not old_blobs & {r[4] for r in records}
    with Vault.open(project, new_key) as rotated:
        assert {e.id for e in rotated.read_witness(pairs[0][0]).excerpts} == {pairs[0][1]}
    assert verify_audit_log(project, key_source=new_key)["entries"] > 0


def test_shredding(vault: Vault, project: Path, key: KeySource) -> None:
    pairs = add_witnesses(vault, 5)
    excerpts = [e for _, e in pairs]
    vault.publish(excerpts)
    with Vault.open(project, key, analyst="bob") as second:
        assert second.publish(excerpts).status == "published"
    assert len(published_for_report(project)["excerpts"]) == 5
    victim = pairs[0][0]
    vault.shred(victim)
    with pytest.raises(DecryptionError, match="shredded"):
        vault.read_witness(victim)
    db = connect(project)
    (wrapped,) = db.execute(
        "SELECT wrapped_key FROM testimony_witnesses WHERE witness_id = ?", (victim,)
    ).fetchone()
    assert wrapped is None
    assert verify_audit(db, path=str(project))["entries"] > 0
    db.close()
    assert verify_audit_log(project, key_source=key)["entries"] > 0
    assert len(published_for_report(project)["excerpts"]) == 4  # withdrawn from publication
    with pytest.raises(DecryptionError, match="shredded"):
        vault.shred(victim)
    with pytest.raises(ParameterError, match="no witness"):
        vault.read_witness("w-unknown")


def test_testimony_leaves_the_rest_of_the_project_alone(project: Path, key: KeySource) -> None:
    import fenceline

    with fenceline.open(project) as p:
        before = p.content_sha256()
    untouched = db_digest(project)
    with pytest.raises(ParameterError, match="testimony init"):
        Vault.open(project, key)  # no vault yet: a clear error, and no tables created
    assert db_digest(project) == untouched
    with Vault.init(project, key, analyst="a") as vault:
        add_witnesses(vault, 2)
        with pytest.raises(ParameterError, match="already has a testimony key"):
            Vault.init(project, key)
    with fenceline.open(project) as p:
        assert p.content_sha256() == before
        assert len(p.border) == 1


def test_record_ids_cannot_collide(vault: Vault, project: Path) -> None:
    first = vault.add_witness(
        profile(), [{"id": "iv1", "date": "2023-01-01", "language": "ko", "interviewer": "a"}]
    )
    before = db_digest(project)
    with pytest.raises(InputError, match="already used"):
        vault.add_witness(
            profile(), [{"id": "iv1", "date": "2023-01-01", "language": "ko", "interviewer": "b"}]
        )
    with pytest.raises(InputError, match="same id"):
        vault.add_witness(
            profile(), [{"id": "x", "date": "2023-01-01", "language": "ko", "interviewer": "b"}] * 2
        )
    excerpt = vault.add_excerpt(first, {"id": "ex-a", "text": "t", "topics": ["food"]})
    with pytest.raises(InputError, match="already used"):
        vault.add_excerpt(first, {"id": excerpt, "text": "u", "topics": ["food"]})
    assert db_digest(project) != before  # the excerpt was added ...
    assert [i.interviewer for i in vault.read_witness(first).interviews] == ["a"]  # ... iv1 kept
