"""Import optional dependencies with an error that says how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

from mucode.core.errors import ConfigError


def import_optional(module: str, needed_for: str, install: str) -> ModuleType:
    """``import module`` or raise ``ConfigError`` naming what needs it and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(f"{needed_for} needs {module}: {install}") from e
