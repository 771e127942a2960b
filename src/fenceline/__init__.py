"""fenceline: measure how a country seals its border, from evidence that holds up.

>>> import fenceline
>>> isinstance(fenceline.__version__, str)
True
"""

from __future__ import annotations

__version__ = "0.1.0"

from fenceline.errors import (
    FencelineError,
    InputError,
    ParameterError,
    ProjectError,
)
from fenceline.project import Project, create, open

__all__ = [
    "FencelineError",
    "InputError",
    "ParameterError",
    "Project",
    "ProjectError",
    "__version__",
    "create",
    "open",
]
