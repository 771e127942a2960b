"""The one way fenceline fingerprints a file: the sha256 of its bytes.

Imported files, registered images, ONNX models and the report's inputs are all recorded by
this digest, so an audit entry, a STAC item and a report can be checked against each other.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_file"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes as hex, read in chunks (memory does not grow with the file).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
