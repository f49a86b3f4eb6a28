"""Loading MBPP from the Hugging Face hub with the optional ``datasets`` package.

Used only when no local copy is configured. ``datasets`` is imported lazily. Offline machines
fail fast: connection errors surface as a DatasetError that names both ways out. Before the
first import we default the hub's HTTP timeouts to a few seconds (``setdefault``: values the
user exported win); ``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1`` are honoured by the hub
libraries themselves and reported in the message.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from mucode.benchmarks.rows import RawRow
from mucode.core.errors import DatasetError

_HUB_TIMEOUT_S = "5"
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


@dataclass(frozen=True, slots=True)
class HubRef:
    """A dataset on the Hugging Face hub: repository id and configuration name."""

    repo: str
    config: str

    def __str__(self) -> str:
        return f"{self.repo} (config {self.config!r})"


def load_hub_rows(ref: HubRef, file_name: str) -> list[RawRow]:
    """Every row of every split of ``ref``; ``file_name`` names the local alternative."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", _HUB_TIMEOUT_S)
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", _HUB_TIMEOUT_S)
    try:
        datasets = importlib.import_module("datasets")
    except ImportError as e:
        reason = "the 'datasets' package is not installed"
        raise DatasetError(hub_advice(ref, file_name, reason)) from e
    # The hub stack raises many types (ConnectionError, OSError, ValueError, its own errors);
    # each means "not available here", so catch them all and keep the cause chained.
    try:
        splits = datasets.load_dataset(ref.repo, ref.config)
    except Exception as e:
        raise DatasetError(hub_advice(ref, file_name, f"{type(e).__name__}: {e}")) from e
    return [
        RawRow(f"hub {ref.repo}[{ref.config}] split {split!r} row {i}", dict(record))
        for split, rows in splits.items()
        for i, record in enumerate(rows)
    ]


def hub_advice(ref: HubRef, file_name: str, reason: str) -> str:
    """The message for a failed hub load: the reason, then both ways to get the data."""
    offline = [v for v in _OFFLINE_VARS if os.environ.get(v, "").strip() not in ("", "0")]
    note = f" ({', '.join(offline)} set, so only the local hub cache was tried)" if offline else ""
    return (
        f"cannot load {ref} from the Hugging Face hub{note}: {_first_line(reason)}. "
        f"Either pass --data-dir /path (or set MUCODE_DATA_DIR=/path) to a directory "
        f"containing {file_name}, or run `pip install 'mucode[hub]'` on a machine with "
        f"internet access."
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return line if len(line) <= 300 else line[:297] + "..."
