"""Keys and AES-GCM envelope encryption of testimony.

- The **project key** (key-encryption key, KEK) comes from a passphrase through scrypt (salt
  and cost stored in the project) or from a 32-byte key file. It never touches the disk.
- Each witness has a **data key** (DEK), random, stored only wrapped (AES-GCM) by the project
  key with the witness id and key version as associated data.
- Each record is sealed with its witness's data key; its id, kind, witness and version are
  the associated data, so a ciphertext moved to another row does not decrypt.

>>> kek = bytes(32)
>>> blob = seal(kek, b"secret", b"aad")
>>> open_sealed(kek, blob, b"aad", what="example")
b'secret'
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from fenceline.errors import DecryptionError, InputError, MissingDependencyError, ParameterError

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "KeySource",
    "ScryptParams",
    "derive_subkey",
    "keyed_hash",
    "new_key",
    "open_sealed",
    "seal",
    "write_key_file",
]

KEY_BYTES = 32
NONCE_BYTES = 12


def _require_cryptography() -> None:
    """Raise :class:`MissingDependencyError` naming the extra when cryptography is missing."""
    try:
        import cryptography  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError("cryptography", "testimony") from None


def _aesgcm(key: bytes):  # -> AESGCM (optional dependency)
    _require_cryptography()
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def new_key() -> bytes:
    """A fresh random 256-bit key.

    >>> len(new_key())
    32
    """
    return os.urandom(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt with AES-256-GCM; returns nonce ‖ ciphertext ‖ tag.

    >>> len(seal(bytes(32), b"x", b"")) == 12 + 1 + 16
    True
    """
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aesgcm(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, blob: bytes, associated_data: bytes, *, what: str) -> bytes:
    """Decrypt what :func:`seal` made; any change to blob, key or associated data is a
    :class:`~fenceline.errors.DecryptionError` naming ``what`` (an id, never content).

    >>> open_sealed(bytes(32), seal(bytes(32), b"x", b"a"), b"a", what="r1")
    b'x'
    """
    _require_cryptography()
    from cryptography.exceptions import InvalidTag

    if not isinstance(blob, bytes | bytearray) or len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(what, "ciphertext is truncated or missing")
    try:
        return _aesgcm(key).decrypt(
            bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), associated_data
        )
    except InvalidTag:
        raise DecryptionError(
            what, "cannot be decrypted: wrong key, or the record is corrupt or was moved"
        ) from None


def derive_subkey(key: bytes, purpose: str) -> bytes:
    """A key for one purpose derived from the project key (HKDF-SHA256).

    >>> derive_subkey(bytes(32), "audit") != derive_subkey(bytes(32), "other")
    True
    """
    _require_cryptography()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"fenceline/{purpose}".encode(),
    ).derive(key)


def keyed_hash(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 of ``data`` as hex: proves what was touched without revealing it.

    >>> len(keyed_hash(bytes(32), b"x"))
    64
    """
    return hmac.new(key, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: ``n`` (CPU/memory, a power of two), ``r``, ``p``.

    The default (n = 2**17, r = 8: 128 MiB, about half a second) follows OWASP's guidance;
    ``FENCELINE_SCRYPT_N`` lowers it for tests only.
    """

    n: int = 2**17
    r: int = 8
    p: int = 1

    @classmethod
    def from_env(cls) -> ScryptParams:
        raw = os.environ.get("FENCELINE_SCRYPT_N")
        if not raw:
            return cls()
        try:
            n = int(raw)
        except ValueError:
            raise ParameterError("FENCELINE_SCRYPT_N", "must be an integer") from None
        if n < 2 or n & (n - 1):
            raise ParameterError("FENCELINE_SCRYPT_N", "must be a power of two >= 2")
        return cls(n=n)

    def derive(self, passphrase: bytes, salt: bytes) -> bytes:
        _require_cryptography()
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        return Scrypt(salt=salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p).derive(passphrase)


@dataclass(frozen=True)
class KeySource:
    """Where the project key comes from: a passphrase (scrypt) or a key file (raw key).

    Build it with :meth:`resolve` from a passphrase file, a key file, or the environment
    variable ``FENCELINE_PASSPHRASE``; never from a command-line value.

    >>> KeySource(kind="passphrase", secret=b"correct horse").kind
    'passphrase'
    """

    kind: str  # "passphrase" or "keyfile"
    secret: bytes

    def __repr__(self) -> str:  # never show the secret
        return f"KeySource(kind={self.kind!r})"

    @classmethod
    def resolve(
        cls,
        passphrase_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        *,
        option_names: tuple[str, str] = ("--passphrase-file", "--key-file"),
    ) -> KeySource:
        """The key source from the files given, else ``FENCELINE_PASSPHRASE``."""
        if passphrase_file and key_file:
            raise ParameterError(
                option_names[1], f"give either {option_names[0]} or this, not both"
            )
        if key_file:
            return cls.from_key_file(key_file)
        if passphrase_file:
            path = Path(passphrase_file)
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise InputError(
                    str(path), f"cannot read the passphrase file ({exc.strerror})"
                ) from None
            secret = raw.rstrip(b"\r\n")
            if not secret:
                raise InputError(str(path), "the passphrase file is empty")
            return cls("passphrase", secret)
        env = os.environ.get("FENCELINE_PASSPHRASE")
        if env:
            return cls("passphrase", env.encode())
        raise ParameterError(
            option_names[0],
            f"testimony needs a key: give {option_names[0]} or {option_names[1]}, "
            "or set FENCELINE_PASSPHRASE",
        )

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str]) -> KeySource:
        """A key file holds 32 random bytes, raw or as 64 hex digits (see :func:`write_key_file`)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(str(path), f"cannot read the key file ({exc.strerror})") from None
        if len(raw) == KEY_BYTES:
            return cls("keyfile", raw)
        text = raw.strip()
        try:
            key = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise InputError(str(path), "not a key file (expected 32 bytes or 64 hex digits)")
        return cls("keyfile", key)


def write_key_file(path: str | os.PathLike[str]) -> None:
    """Write a new random key file (64 hex digits, mode 0600). Refuses to overwrite."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(str(path), "already exists; will not overwrite a key file") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(new_key().hex() + "\n")
