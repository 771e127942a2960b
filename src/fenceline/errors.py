"""The exceptions of fenceline: one base, :class:`FencelineError`.

Every exception carries what caused it (the file, the feature, the field) and builds its
one-line message in ``__init__``, so the command line can print it as it is.
"""

from __future__ import annotations

__all__ = [
    "DecryptionError",
    "DisclosureError",
    "FencelineError",
    "FencelineWarning",
    "InputError",
    "IntegrityError",
    "MissingDependencyError",
    "ParameterError",
    "ProjectError",
    "SchemaError",
]


class FencelineError(Exception):
    """Base of every error raised by fenceline."""

    #: exit code the command line uses for this error (2: bad input or usage; 1: failure)
    exit_code: int = 1

    def __reduce__(self) -> tuple:
        # subclasses build their message from keyword arguments in __init__; rebuild from the
        # message and attributes instead, so an error raised in a worker process (local pool,
        # Dask) reaches the command line intact
        return (_rebuild_error, (type(self), str(self), dict(self.__dict__)))


def _rebuild_error(cls: type, message: str, state: dict) -> FencelineError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class InputError(FencelineError, ValueError):
    """A user-supplied file or value is wrong.

    Parameters
    ----------
    source : str
        The file (or option) that is wrong.
    problem : str
        What is wrong, in a few words.
    feature : str or int, optional
        The feature id or 0-based index in the source, when one feature is at fault.
    field : str, optional
        The field (column, attribute) at fault.
    """

    exit_code = 2

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        feature: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = str(source)
        self.problem = problem
        self.feature = feature
        self.field = field
        where = [self.source]
        if feature is not None:
            where.append(f"feature {feature}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {problem}")


class ParameterError(FencelineError, ValueError):
    """A parameter (date, area name, option) is invalid for this project."""

    exit_code = 2

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter}: {problem}")


class ProjectError(FencelineError):
    """The project file cannot be used (missing, not a fenceline project, locked)."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class SchemaError(ProjectError):
    """The project's schema version is newer than this fenceline understands."""


class MissingDependencyError(FencelineError, ImportError):
    """An optional dependency is needed; names the extra that provides it."""

    exit_code = 1

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is needed for this; install it with: pip install 'fenceline[{extra}]'"
        )


class DecryptionError(FencelineError, ValueError):
    """A key or an encrypted record cannot be used: wrong passphrase, corrupt or swapped
    ciphertext, or a witness whose key was shredded. Never carries any plaintext."""

    exit_code = 2

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class DisclosureError(FencelineError, ValueError):
    """Publishing or exporting testimony was refused (disclosure check, missing sign-off).

    The message names record ids and reasons only, never testimony content.
    """

    exit_code = 2

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class IntegrityError(FencelineError):
    """A tamper-evident log does not verify (an entry edited, deleted, reordered or cut)."""

    exit_code = 1

    def __init__(self, path: str, problem: str, *, entry: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.entry = entry
        where = self.path if entry is None else f"{self.path}: audit entry {entry}"
        super().__init__(f"{where}: {problem}")


class FencelineWarning(UserWarning):
    """Base of fenceline's warnings."""
