"""The exceptions of fenceline: one base, :class:`FencelineError`.

Every exception carries what caused it (the file, the feature, the field) and builds its
one-line message in ``__init__``, so the command line can print it as it is.
"""

from __future__ import annotations

__all__ = [
    "FencelineError",
    "FencelineWarning",
    "InputError",
    "MissingDependencyError",
    "ParameterError",
    "ProjectError",
    "SchemaError",
]


class FencelineError(Exception):
    """Base of every error raised by fenceline."""

    #: exit code the command line uses for this error (2: bad input or usage; 1: failure)
    exit_code: int = 1


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


class FencelineWarning(UserWarning):
    """Base of fenceline's warnings."""
