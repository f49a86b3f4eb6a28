"""`mucode report` on small fixed run directories: exact tables, summaries and plots."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mucode.commands.report import write_report
from mucode.core.errors import ConfigError
from mucode.core.jsonl import write_jsonl
from mucode.core.manifest import MANIFEST
from mucode.core.records import Completion, Message, Status, Turn, Verdict
from mucode.report.plots import _colours, _markers
from mucode.report.runs import load_run, unpaired
from mucode.report.tables import tables, to_markdown
from mucode.search.records import SearchEpisode, SearchTurn
from mucode.search.run import SEARCHES


def turn(passed: bool) -> Turn:
    verdict = Verdict(Status.PASSED if passed else Status.FAILED, "", 0.0, int(passed), 1)
    return Turn(Completion("answer", "stop", 10, 5), "code", verdict, verdict)


def write_run(path, select, n, kept_by_problem):
    """One repeat; ``kept_by_problem[i]`` is the kept candidates' hidden-test results."""
    episodes = [
        SearchEpisode(f"HumanEval/{i}", "humaneval", "test", 0, (Message("user", "p"),),
                      tuple(SearchTurn((turn(ok),) * n, None, 0) for ok in kept))
        for i, kept in enumerate(kept_by_problem)
    ]  # fmt: skip
    path.mkdir(parents=True)
    write_jsonl(path / SEARCHES, [e.to_dict() for e in episodes])
    config = {"benchmark": "humaneval", "generator": {"backend": "llamacpp", "model": None},
              "search": {"select": select, "n": n, "turns": 2,
                         "sampling": {"temperature": 0.7}}}  # fmt: skip
    (path / MANIFEST).write_text(json.dumps({"config": config}))
    return path


@pytest.fixture
def run_dirs(tmp_path):
    pt = write_run(tmp_path / "pt", "pt", 1, [[True], [False, True]])
    ov = write_run(tmp_path / "ov", "ov", 2, [[True], [True]])
    return pt, ov


def test_tables_have_the_paper_shape_and_mark_the_oracle(run_dirs):
    final, first = (to_markdown(t) for t in tables([load_run(d) for d in run_dirs]))
    assert final.splitlines()[2:] == [
        "| method | humaneval N=1 | humaneval N=2 |",
        "|---|---|---|",
        "| pt | 1.000 ± 0.000 | — |",
        "| ov (oracle, upper bound) | — | 1.000 ± 0.000 |",
    ]
    # turn 1: per-problem accuracies 1 and 0 -> 0.5 ± 1.96 * 0.7071 / sqrt(2)
    assert "| pt | 0.500 ± 0.980 | — |" in first


def test_the_report_command_writes_markdown_and_plots(run_dirs, tmp_path):
    out = tmp_path / "report"
    command = [sys.executable, "-m", "mucode", "report", *map(str, run_dirs), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (out / "report.md").read_text()
    assert "| pt | 1.000 ± 0.000 | — |" in text and "![accuracy vs turn]" in text
    assert "pt N=1 T=2 R=1, 2 problems, llamacpp:default: turn 1 0.500 -> turn 2 1.000" in text
    assert "ov [upper bound] N=2" in done.stdout
    for png in ("accuracy_vs_turn.png", "accuracy_vs_n.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_a_method_keeps_its_colour_across_n_and_the_marker_tells_n_apart(tmp_path):
    cells = [("pt5", "pt", 5), ("rand", "rand", 5), ("pt1", "pt", 1)]
    runs = [load_run(write_run(tmp_path / name, select, n, [[True]])) for name, select, n in cells]
    assert _colours(runs) == {("humaneval", "pt"): "C0", ("humaneval", "rand"): "C1"}
    assert _markers(runs) == {1: "o", 5: "s"}


def test_a_directory_that_is_not_a_search_run_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mucode", "report", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "is not a `mucode search` run directory" in done.stderr


def test_two_runs_for_the_same_cell_are_refused_not_overwritten(tmp_path):
    first = write_run(tmp_path / "first", "pt", 1, [[True]])
    second = write_run(tmp_path / "second", "pt", 1, [[False]])
    with pytest.raises(ConfigError, match="would fill the same cell"):
        tables([load_run(first), load_run(second)])


def test_runs_over_different_problems_are_flagged_as_unpaired(tmp_path):
    full = write_run(tmp_path / "full", "pt", 1, [[True], [True]])
    partial = write_run(tmp_path / "partial", "rand", 1, [[True]])
    assert unpaired([load_run(full), load_run(partial)]) == [
        "humaneval: the runs searched different problems (full 2, partial 1), "
        "so their accuracies are not a paired comparison"
    ]
    same_problems = write_run(tmp_path / "same", "rand", 2, [[False], [True]])
    assert unpaired([load_run(full), load_run(same_problems)]) == []
    report = write_report([load_run(full), load_run(partial)], tmp_path / "report")
    assert "> **Warning:** humaneval: the runs searched different problems" in report.read_text()
