"""PNG of a verifier evaluation: the ROC curve and best-of-N accuracy against N."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mucode.core.plotting import pyplot, save_png
from mucode.verifier.evaluation import ScoredProblem, VerifierReport


def plot_report(scored: Sequence[ScoredProblem], report: VerifierReport, path: Path,
                title: str) -> Path:  # fmt: skip
    """Write a two-panel PNG to ``path``: ROC (left) and selection accuracy vs N (right)."""
    from sklearn.metrics import roc_curve

    plt = pyplot()
    figure, (roc, bon) = plt.subplots(1, 2, figsize=(10, 4))
    scores = [s for p in scored for s in p.code_scores]
    labels = [c.correct for p in scored for c in p.problem.codes]
    if report.roc_auc is not None:
        false_pos, true_pos, _ = roc_curve(labels, scores)
        roc.plot(false_pos, true_pos, label=f"verifier (AUC {report.roc_auc:.3f})")
    roc.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    roc.set(xlabel="false positive rate", ylabel="true positive rate",
            title=f"ROC on {report.codes} distinct codes")  # fmt: skip
    roc.legend(loc="lower right")
    rows = [b for b in report.best_of_n if b.problems]
    ns = [b.n for b in rows]
    for name, style in (("oracle", "--"), ("verifier", "-"), ("random", ":")):
        bon.plot(ns, [getattr(b, name) for b in rows], style, marker="o", label=name)
    bon.set(xlabel="N (first-turn candidates)", ylabel="accuracy of the selected code",
            title="best-of-N selection", xticks=ns)  # fmt: skip
    bon.legend(loc="lower right")
    figure.suptitle(title)
    return save_png(figure, path)
