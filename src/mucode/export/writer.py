"""Write a run's rows as a ``datasets`` dataset (``save_to_disk``) or a Parquet file, with a
dataset card (``README.md``) that documents every column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mucode.core.errors import ConfigError, DatasetError
from mucode.core.optional import import_optional
from mucode.export import ExportFormat
from mucode.export.kinds import find_kind
from mucode.export.schema import RunKind, features, type_name

INSTALL = "pip install 'mucode[export]'"
CARD = "README.md"


@dataclass(frozen=True, slots=True)
class Exported:
    """What ``export_run`` wrote."""

    kind: RunKind
    rows: int
    path: Path  # the dataset directory, or the Parquet file


def export_run(run_dir: Path, export_format: ExportFormat, out: Path) -> Exported:
    """Export the records of ``run_dir`` into the directory ``out``, with its card."""
    run_dir, out = Path(run_dir), Path(out)
    kind = find_kind(run_dir)
    if out.resolve() == run_dir.resolve():
        raise ConfigError(f"--out {out} is the run directory; choose another directory")
    datasets = import_optional("datasets", "mucode export", INSTALL)
    rows = list(kind.rows(run_dir / kind.records_file))
    if not rows:
        raise DatasetError(f"{run_dir / kind.records_file} holds no complete records to export")
    schema = datasets.Features({c.name: features(c.spec, datasets) for c in kind.columns})
    card = dataset_card(kind, run_dir, len(rows))
    info = datasets.DatasetInfo(description=card, features=schema)
    dataset = datasets.Dataset.from_list(rows, features=schema, info=info)
    out.mkdir(parents=True, exist_ok=True)
    datasets.disable_progress_bars()
    if export_format is ExportFormat.PARQUET:
        path = out / f"{kind.name}.parquet"
        dataset.to_parquet(str(path))
    else:
        path = out
        dataset.save_to_disk(str(out))
    (out / CARD).write_text(card, encoding="utf-8")
    return Exported(kind, len(rows), path)


def dataset_card(kind: RunKind, run_dir: Path, n_rows: int) -> str:
    """Markdown: where the rows come from, how to load them, and a table of the columns."""
    lines = [
        f"# mucode {kind.name}",
        "",
        f"{n_rows} rows exported by `mucode export` from `{run_dir / kind.records_file}` "
        f"(written by {kind.made_by}); one row is {kind.row_is}.",
        "",
        f'Load with `datasets.load_from_disk(DIR)`, or `pandas.read_parquet("DIR/{kind.name}'
        f'.parquet")` / `datasets.load_dataset("parquet", data_files=...)` for the Parquet '
        "export. `messages` is in the chat form TRL's trainers read.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.name}` | `{type_name(c.spec)}` | {c.doc} |" for c in kind.columns]
    return "\n".join(lines) + "\n"
