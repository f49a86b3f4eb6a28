"""The kinds of run ``mucode export`` knows, each found by its records file."""

from __future__ import annotations

from pathlib import Path

from mucode.core.errors import ConfigError
from mucode.export import rollouts, searches
from mucode.export.schema import RunKind

KINDS: tuple[RunKind, ...] = (rollouts.KIND, searches.KIND)


def find_kind(run_dir: Path) -> RunKind:
    """The kind of run in ``run_dir``, from the one records file it holds."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is not a directory; pass a run directory")
    found = [kind for kind in KINDS if (run_dir / kind.records_file).is_file()]
    if len(found) == 1:
        return found[0]
    if not found:
        expected = ", ".join(f"{k.records_file} (from {k.made_by})" for k in KINDS)
        raise ConfigError(f"{run_dir} holds no run records; expected one of: {expected}")
    names = ", ".join(k.records_file for k in found)
    raise ConfigError(f"{run_dir} holds records of several kinds ({names}); export a run "
                      "directory that holds one")  # fmt: skip
