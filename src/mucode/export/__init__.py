"""``mucode export``: a run directory's records as a Hugging Face ``datasets`` dataset.

Which records a run holds is read off its records file (``kinds.KINDS``). Each kind is
one small adapter (``schema.RunKind``: records file, documented columns, a row reader), so
a new kind of run plugs in with one module and one entry in ``KINDS``. ``writer`` builds
and writes the dataset; ``datasets`` is imported only then.
"""

from enum import Enum


class ExportFormat(str, Enum):
    """``datasets``: a ``load_from_disk`` directory; ``parquet``: one ``<kind>.parquet`` file."""

    DATASETS = "datasets"
    PARQUET = "parquet"
