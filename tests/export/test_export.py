"""``mucode export``: rollouts and searches as datasets / Parquet that read back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mucode.cli import app
from mucode.core.errors import ConfigError, DatasetError
from mucode.core.jsonl import write_jsonl
from mucode.core.records import Completion, Message, Status, Trajectory, Turn, Verdict
from mucode.export import ExportFormat
from mucode.export.kinds import KINDS, find_kind
from mucode.export.schema import type_name
from mucode.rollout import TRAJECTORIES
from mucode.search.records import SearchEpisode, SearchTurn
from mucode.search.run import SEARCHES

datasets = pytest.importorskip("datasets", reason="install the export extra: '.[export]'")
pd = pytest.importorskip("pandas")

from mucode.export.writer import export_run  # noqa: E402 - needs datasets

README = Path(__file__).resolve().parents[2] / "README.md"
PROMPT = (Message("system", "You write Python."), Message("user", "Write add(a, b)."))


def _turn(code: str, oracle: Status, public: Status | None = None, tokens: int = 12) -> Turn:
    def verdict(status: Status) -> Verdict:
        feedback = "" if status is Status.PASSED else "Failed test:\nassert add(1, 2) == 3"
        return Verdict(status, feedback, 0.0125, 1 if status is Status.PASSED else 0, 2)

    return Turn(Completion(f"```python\n{code}\n```", "stop", 30, tokens), code,
                verdict(public or oracle), verdict(oracle), generate_s=0.5)  # fmt: skip


TRAJECTORY_RECORDS = [
    Trajectory("Mbpp/11", "mbpp", "test", 0,
               (*PROMPT, Message("assistant", "a - b"), Message("user", "Failed test: ..."),
                Message("assistant", "a + b")),
               (_turn("def add(a, b):\n    return a - b", Status.FAILED),
                _turn("def add(a, b):\n    return a + b", Status.PASSED))),
    Trajectory("Mbpp/12", "mbpp", "test", 1, (*PROMPT, Message("assistant", "…")),
               (_turn("def add(a, b): ...", Status.FAILED, Status.PASSED, tokens=4000),),
               context_full=True),
    Trajectory("Mbpp/13", "mbpp", "test", 0, PROMPT, (), infra_error=True),
]  # fmt: skip
SEARCH_RECORDS = [
    SearchEpisode("HumanEval/0", "humaneval", "test", 0, (*PROMPT, Message("assistant", "x")),
                  (SearchTurn((_turn("a", Status.FAILED), _turn("b", Status.PASSED)),
                              (0.25, -1.5), 1),)),
    SearchEpisode("HumanEval/0", "humaneval", "test", 1, PROMPT,
                  (SearchTurn((_turn("c", Status.FAILED),) * 2, None, 0),
                   SearchTurn((_turn("d", Status.TIMEOUT), _turn("e", Status.CRASHED)), None, 1))),
]  # fmt: skip
DERIVED = ("n_turns", "solved", "solved_public")


@pytest.fixture
def rollout_dir(tmp_path) -> Path:
    run = tmp_path / "rollout"
    run.mkdir()
    write_jsonl(run / TRAJECTORIES, [t.to_dict() for t in TRAJECTORY_RECORDS])
    return run


@pytest.fixture
def search_dir(tmp_path) -> Path:
    run = tmp_path / "search"
    run.mkdir()
    write_jsonl(run / SEARCHES, [e.to_dict() for e in SEARCH_RECORDS])
    return run


def _record(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in DERIVED}


def test_rollouts_load_from_disk_and_read_back_as_the_records(rollout_dir, tmp_path):
    done = export_run(rollout_dir, ExportFormat.DATASETS, tmp_path / "ds")
    assert (done.kind.name, done.rows, done.path) == ("rollouts", 3, tmp_path / "ds")
    dataset = datasets.load_from_disk(str(tmp_path / "ds"))
    assert dataset.column_names == [c.name for c in done.kind.columns]
    assert [Trajectory.from_dict(_record(row)) for row in dataset] == TRAJECTORY_RECORDS
    assert dataset["n_turns"] == [2, 1, 0]
    assert dataset["solved"] == [True, False, False]
    assert dataset["solved_public"] == [True, True, False]
    assert dataset[0]["messages"][-1] == {"role": "assistant", "content": "a + b"}


def test_searches_load_from_disk_and_read_back_as_the_records(search_dir, tmp_path):
    export_run(search_dir, ExportFormat.DATASETS, tmp_path / "ds")
    dataset = datasets.load_from_disk(str(tmp_path / "ds"))
    assert [SearchEpisode.from_dict(_record(row)) for row in dataset] == SEARCH_RECORDS
    assert dataset[0]["turns"][0]["scores"] == [0.25, -1.5]
    assert dataset[1]["turns"][0]["scores"] is None
    assert dataset["solved"] == [True, False] and dataset["n_turns"] == [1, 2]


@pytest.mark.parametrize(("fixture", "kind", "records"),
                         [("rollout_dir", "rollouts", TRAJECTORY_RECORDS),
                          ("search_dir", "searches", SEARCH_RECORDS)])  # fmt: skip
def test_parquet_reads_in_pandas_and_datasets(request, tmp_path, fixture, kind, records):
    run = request.getfixturevalue(fixture)
    done = export_run(run, ExportFormat.PARQUET, tmp_path / "pq")
    assert done.path == tmp_path / "pq" / f"{kind}.parquet"
    frame = pd.read_parquet(done.path)
    assert len(frame) == len(records) and list(frame.columns) == [c.name for c in done.kind.columns]
    assert list(frame["task_id"]) == [r.task_id for r in records]
    loaded = datasets.load_dataset("parquet", data_files=str(done.path), split="train")
    assert loaded.features == datasets.load_from_disk(
        str(export_run(run, ExportFormat.DATASETS, tmp_path / "ds").path)).features  # fmt: skip
    assert type(records[0]).from_dict(_record(loaded[0])) == records[0]


def test_the_card_and_the_readme_document_every_column(rollout_dir, tmp_path):
    export_run(rollout_dir, ExportFormat.DATASETS, tmp_path / "ds")
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "3 rows" in card and str(rollout_dir / TRAJECTORIES) in card
    text = README.read_text()
    readme = text[text.index("## Formats: samples, results, export") :]
    readme = readme[: readme.index("\n## ")]
    for kind in KINDS:
        for column in kind.columns:
            assert f"`{column.name}`" in readme, f"README misses {kind.name} column {column.name}"
    for column in KINDS[0].columns:
        assert f"| `{column.name}` | `{type_name(column.spec)}` | {column.doc} |" in card
    assert datasets.load_from_disk(str(tmp_path / "ds")).info.description == card


def test_a_torn_last_line_is_not_exported(rollout_dir, tmp_path):
    with (rollout_dir / TRAJECTORIES).open("a") as f:
        f.write(json.dumps(TRAJECTORY_RECORDS[0].to_dict())[:40])  # a writer killed mid-line
    assert export_run(rollout_dir, ExportFormat.DATASETS, tmp_path / "ds").rows == 3


def test_the_kind_comes_from_the_records_file(rollout_dir, search_dir, tmp_path):
    assert find_kind(rollout_dir).name == "rollouts" and find_kind(search_dir).name == "searches"
    expected = r"no run records; expected one of: trajectories\.jsonl \(from `mucode rollout`\)"
    with pytest.raises(ConfigError, match=expected + r", searches\.jsonl"):
        find_kind(tmp_path)
    (rollout_dir / SEARCHES).write_text("")
    with pytest.raises(ConfigError, match="several kinds"):
        find_kind(rollout_dir)


def test_refusals(rollout_dir, tmp_path):
    with pytest.raises(ConfigError, match="is the run directory"):
        export_run(rollout_dir, ExportFormat.DATASETS, rollout_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / TRAJECTORIES).write_text("")
    with pytest.raises(DatasetError, match="no complete records"):
        export_run(empty, ExportFormat.PARQUET, tmp_path / "out")


def test_the_command_exports_and_says_where(search_dir, tmp_path):
    out = tmp_path / "pq"
    result = CliRunner().invoke(app, ["export", str(search_dir), "--format", "parquet",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"exported 2 searches to {out / 'searches.parquet'}" in " ".join(result.output.split())
    assert len(pd.read_parquet(out / "searches.parquet")) == 2
