"""matplotlib for PNG files only: imported on demand, with the file backend."""

from __future__ import annotations

from pathlib import Path

from mucode.core.optional import import_optional


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend; a clear error when matplotlib is missing."""
    matplotlib = import_optional("matplotlib", "plots", "pip install 'mucode[verifier]'")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure, path: Path) -> Path:
    """Lay out, write ``path`` (creating its folder) and free the figure."""
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    pyplot().close(figure)
    return Path(path)
