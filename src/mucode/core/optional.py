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


RAY_INSTALL = "pip install 'mucode[ray]' (on the driver and on every node of the cluster)"


def import_ray(address: str) -> ModuleType:
    """``import ray`` for ``--ray address``, or the error that says how to install it."""
    return import_optional("ray", f"--ray {address}", RAY_INSTALL)
