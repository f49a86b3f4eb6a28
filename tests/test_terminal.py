"""Summary tables keep their title on one line in an 80-column terminal; messages print
literally."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from mucode.commands import evaluate as evaluate_command
from mucode.commands import rollout as rollout_command
from mucode.commands import search as search_command
from mucode.commands.verifier import report_table
from mucode.core.terminal import error_text, fitted_table
from mucode.evaluation.evaluate import EvaluationSummary
from mucode.report.tables import Grid, to_rich
from mucode.rollout import RolloutSummary, StepStats
from mucode.search.metrics import MeanCI, SearchSummary
from mucode.search.run import SearchConfig
from mucode.search.selectors import Selection
from mucode.verifier.evaluation import BestOfN, VerifierReport


def _render(renderable, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text().splitlines()


def _evaluation_summary() -> EvaluationSummary:
    return EvaluationSummary(
        benchmark="humaneval", split="test", n_tasks=20, n_samples=20, pass_at_k={1: 0.25},
        n_public_passed=7, status_counts={"passed": 5, "failed": 15, "timeout": 0,
                                          "crashed": 0, "infra_error": 0},
        results_path=Path("runs/a-rather-long-directory-name/samples.jsonl_results.jsonl"),
        wall_s=12.5, n_tasks_in_split=164, n_tasks_without_samples=144,
    )  # fmt: skip


def _search_summary() -> SearchSummary:
    accuracy = (MeanCI(0.5, 0.4, 0.6), MeanCI(0.6, 0.5, 0.7), MeanCI(0.65, 0.55, 0.75))
    return SearchSummary(problems=164, repeats=10, accuracy_by_turn=accuracy,
                         repeat_accuracy=(0.65,) * 10, pass_at_k={1: 0.5},
                         public_pass_rate=0.7)  # fmt: skip


def _report() -> VerifierReport:
    return VerifierReport(problems=16, codes=80, correct=30, roc_auc=0.71, pairs=120,
                          pairwise_accuracy=0.68,
                          best_of_n=(BestOfN(5, 16, 0.55, 0.41, 0.7),))  # fmt: skip


def _tables():
    rollout = RolloutSummary(Path("runs/r/trajectories.jsonl"), 6, 0, (0.5, 0.66, 0.83),
                             StepStats(), 1.0)  # fmt: skip
    summary = _evaluation_summary()
    grid = Grid("BoN accuracy after the last turn (hidden tests, mean ± 95% CI)", ("pt",),
                (("humaneval", 5),), {("pt", ("humaneval", 5)): MeanCI(0.6, 0.5, 0.7)})  # fmt: skip
    return {
        "rollout": rollout_command.summary_table(rollout),
        "search": search_command.summary_table(_search_summary(),
                                               SearchConfig(select=Selection.PT_LV, n=5)),
        "search ov": search_command.summary_table(_search_summary(),
                                                  SearchConfig(select=Selection.OV, n=5)),
        "evaluate": evaluate_command.summary_table(summary.to_json_dict(),
                                                   evaluate_command.summary_title(summary)),
        "report": to_rich(grid),
        "verifier": report_table(_report(), "verifier on runs/mbpp-validation-s5-t1"),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(_tables()))
def test_summary_titles_stay_on_one_line_at_80_columns(name):
    table = _tables()[name]
    lines = _render(table)
    title = table.title.plain
    assert any(title in line for line in lines), "\n".join(lines)
    assert max(len(line.rstrip()) for line in lines) <= 80
    if table.caption is not None:
        assert any(table.caption.plain in line for line in lines), "\n".join(lines)


def test_the_rollout_title_reads_whole():
    rollout = RolloutSummary(Path("r"), 6, 0, (0.5,), StepStats(), 1.0)
    first = _render(rollout_command.summary_table(rollout))[0]
    assert first.strip() == "rollout: 6 trajectories (0 resumed)"


def test_the_upper_bound_note_of_oracle_selection_is_kept():
    table = search_command.summary_table(_search_summary(), SearchConfig(select=Selection.OV))
    assert "oracle selection: an upper bound, not a method" in "\n".join(_render(table))


def test_titles_with_brackets_are_shown_literally():
    table = fitted_table("runs/[hub] and [bold]x[/bold]")
    table.add_column("a")
    assert _render(table)[0].strip() == "runs/[hub] and [bold]x[/bold]"


def test_error_text_keeps_extras_and_brackets():
    lines = _render(error_text(ValueError("run `pip install 'mucode[hub]'` [red]now[/]")))
    assert lines == ["error: run `pip install 'mucode[hub]'` [red]now[/]"]
