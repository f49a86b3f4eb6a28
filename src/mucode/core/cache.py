"""Where mucode keeps machine-local caches (models, reference timings)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$MUCODE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mucode``, else ``~/.cache/mucode``."""
    if explicit := os.environ.get("MUCODE_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mucode"
