"""Mutation testing of the modules that decide rewards and results, with cosmic-ray.

    python bench/mutation.py                 # every module below, smallest first
    python bench/mutation.py metrics search/selectors.py   # some of them
    python bench/mutation.py --survivors metrics   # re-test its survivors with today's tests
    python bench/mutation.py --timeouts metrics    # re-test the mutants that timed out
    python bench/mutation.py --exceptions metrics  # re-test the except-clause mutants

A run stopped part-way (a kill, the end of a session) resumes where it stopped when started
again, as long as the module's source is unchanged; a changed module starts afresh.

Each module is mutated by cosmic-ray and judged by the narrow set of tests that cover it
(``MODULES``), so a module takes minutes. Survivors, with their diffs, go to
``bench/runs/mutation/<module>.txt``; ``bench/RESULTS.md`` says which new test kills each
one or why it is equivalent.

Why cosmic-ray (8.7.0), not mutmut or pytest-gremlins. mutmut 3 copies the package to
``mutants/`` and compiles every mutant of a function into it at once; a trampoline picks the
live one per call from ``MUTANT_UNDER_TEST`` in the environment (or a process-local copy of
it). Sandbox workers are fresh interpreters (``python -s -S -c ...``, not forks of pytest)
started with exactly ``pool._WORKER_ENV``, so in them the trampoline finds no mutant name and
runs the original: every mutant of ``sandbox/harness.py`` (which runs only in workers)
would survive without being tested. cosmic-ray writes each mutant into the source file and
runs the test command, so a worker importing mucode imports the mutant. pytest-gremlins is
not on PyPI. cosmic-ray supports Python 3.9-3.13 and drives pytest as a plain command.

Because cosmic-ray mutates in place, it runs on a copy of ``src/`` and ``tests/`` (in
``$MUCODE_MUTATION_DIR``, default ``/var/tmp/mucode-mutation``), never on the checkout
that others work in. The tests run with ``PYTHONPATH=<copy>/src``, which comes before the
editable install's path, and the sandbox's workers import mucode from wherever the pool
imported it (``view.IMPORT_ROOT``), so they too run the mutant; ``check_reach`` proves it
before anything runs. cosmic-ray sets ``PYTHONDONTWRITEBYTECODE`` for the tests, and
workers see the package read-only, so no stale ``.pyc`` of a mutant is ever loaded.

Left out: mutations inside annotations (every module here has ``from __future__ import
annotations``, so annotations are strings never evaluated: ``int | None`` to ``int - None``
is equivalent by construction), marked skipped by ``skip_annotations``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "runs" / "mutation"
WORK = Path(os.environ.get("MUCODE_MUTATION_DIR", "/var/tmp/mucode-mutation"))
TOOL = "cosmic-ray==8.7.0"

# module (under src/mucode) -> the tests that cover it, smallest module first
MODULES: dict[str, list[str]] = {
    "metrics.py": ["tests/test_metrics.py"],
    "search/selectors.py": ["tests/search/test_selectors.py"],
    "search/metrics.py": ["tests/search/test_metrics.py"],
    "verifier/losses.py": ["tests/verifier/test_losses.py"],
    "verifier/data.py": ["tests/verifier/test_data.py"],
    "sandbox/values.py": ["tests/sandbox/test_expected.py"],
    "sandbox/expected.py": [
        "tests/sandbox/test_expected.py",
        "tests/sandbox/test_expected_rewrite.py",
    ],
    "sandbox/verdicts.py": ["tests/sandbox/test_verdicts.py"],
    "evaluation/evaluate.py": ["tests/test_evaluate.py"],
    "sandbox/harness.py": [
        "tests/sandbox/test_pool.py",
        "tests/sandbox/test_integrity.py",
        "tests/sandbox/test_differential.py",
    ],
    "training/expert.py": [
        "tests/training/test_relabel.py",
        "tests/training/test_expert_inputs.py",
    ],
    "training/relabel.py": ["tests/training/test_relabel.py"],
}


def ensure_tool() -> None:
    """Install cosmic-ray (the ``mutation`` extra's pin) if it is missing."""
    if shutil.which("cosmic-ray", path=str(Path(sys.executable).parent)) is None:
        subprocess.run([sys.executable, "-m", "pip", "install", TOOL], check=True)


TESTING_EXCEPTION = "\n\nclass CosmicRayTestingException(Exception):\n    pass\n"
"""Appended to each mutated module's copy. cosmic-ray's ``ExceptionReplacer`` swaps an
``except`` clause's type for this name but does not define it, so without it any exception
reaching the clause raises ``NameError`` and kills the mutant, whichever type was dropped.
At the end of the file it moves no line the mutants point at."""


def copy_tree() -> None:
    """A fresh copy of src/, tests/, the bench scripts and pyproject.toml to mutate (earlier
    sessions stay), each module to mutate ending with ``TESTING_EXCEPTION``."""
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    for name in ("src", "tests"):
        shutil.rmtree(WORK / name, ignore_errors=True)
        shutil.copytree(ROOT / name, WORK / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", WORK / "pyproject.toml")
    (WORK / "bench").mkdir(exist_ok=True)
    for script in (ROOT / "bench").glob("*.py"):  # tests/sandbox/test_differential imports one
        shutil.copy2(script, WORK / "bench" / script.name)
    for module in MODULES:
        with (WORK / "src" / "mucode" / module).open("a") as f:
            f.write(TESTING_EXCEPTION)


def run_env() -> dict[str, str]:
    """The environment of the tests: the copy's src first on the import path."""
    return {**os.environ, "PYTHONPATH": str(WORK / "src")}


def check_reach() -> None:
    """Fail unless a sandbox worker imports mucode from the copy (so it runs the mutants)."""
    probe = (
        "from mucode.sandbox import Job, Sandbox\n"
        "test = 'm = sys.modules.get(\"mucode.sandbox.harness\")\\nassert False, m.__file__'\n"
        "with Sandbox(workers=1) as sb:\n"
        "    print(sb.run(Job(program='import sys', tests=(test,))).feedback)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=WORK, env=run_env(),
                          capture_output=True, text=True, check=True)  # fmt: skip
    if str(WORK / "src" / "mucode") not in done.stdout:
        sys.exit(f"sandbox workers do not import mucode from {WORK}/src:\n{done.stdout}")


def write_config(module: str, tests: list[str], timeout_s: float) -> Path:
    """cosmic-ray's config for one module."""
    cfg = WORK / f"{module.removesuffix('.py').replace('/', '_')}.toml"
    command = " ".join([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                        *tests])  # fmt: skip
    cfg.write_text(
        "[cosmic-ray]\n"
        f'module-path = "src/mucode/{module}"\n'
        f"timeout = {timeout_s:.0f}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    return cfg


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every annotation in ``source``, as (line, column)."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        note = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            note = node.returns
        elif isinstance(node, (ast.arg, ast.AnnAssign)):
            note = node.annotation
        if note is not None:
            spans.append(((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset)))
    return spans


def skip_annotations(session: Path, module: str) -> int:
    """Mark the mutants inside annotations skipped; how many there were."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = annotation_spans((WORK / "src" / "mucode" / module).read_text())
    skipped = 0
    with use_db(session, WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            pos = tuple(item.mutations[0].start_pos)
            if any(start <= pos < end for start, end in spans):
                result = WorkResult(output="in an annotation (never evaluated)",
                                    worker_outcome=WorkerOutcome.SKIPPED)  # fmt: skip
                db.set_result(item.job_id, result)
                skipped += 1
    return skipped


def baseline_s(tests: list[str]) -> float:
    """Run the tests once unmutated (they must pass); their wall time."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                   cwd=WORK, env=run_env(), check=True, capture_output=True)  # fmt: skip
    return time.monotonic() - start


def survivors(session: Path) -> list[str]:
    """The job ids of a session's surviving mutants."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    with use_db(session, WorkDB.Mode.open) as db:
        return [
            i.job_id for i, r in db.completed_work_items if r.test_outcome == TestOutcome.SURVIVED
        ]


def timed_out(session: Path) -> list[str]:
    """The job ids of the mutants counted killed because their tests ran out of time."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(session, WorkDB.Mode.open) as db:
        return [i.job_id for i, r in db.completed_work_items if r.output == "timeout"]


def exception_mutants(session: Path) -> list[str]:
    """The job ids of the mutants that swap an ``except`` clause's type."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(session, WorkDB.Mode.open) as db:
        return [i.job_id for i, _ in db.completed_work_items
                if i.mutations[0].operator_name == "core/ExceptionReplacer"]  # fmt: skip


def forget_results(session: Path, job_ids: list[str]) -> None:
    """Make these mutants pending again, so ``exec`` tests them anew."""
    with sqlite3.connect(session) as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in job_ids])


def retest(module: str, which: str) -> None:
    """Run a module's earlier survivors (or timeouts) against the current tests; rewrite its
    report."""
    tests = MODULES[module]  # today's list: it may have grown since
    cfg = write_config(module, tests, max(60.0, 4 * baseline_s(tests)))
    session = cfg.with_suffix(".sqlite")
    if not session.exists():
        sys.exit(f"no earlier run of {module} in {WORK}: run it first")
    before = {"survivors": survivors, "timeouts": timed_out,
              "exceptions": exception_mutants}[which](session)  # fmt: skip
    forget_results(session, before)
    start = time.monotonic()
    cosmic_ray("cosmic-ray", "exec", str(cfg), str(session))
    alive = set(survivors(session))
    note = (f"re-tested the {len(before)} earlier {which} with the current tests: "
            f"{len(set(before) - alive)} killed, {len(alive & set(before))} survive")  # fmt: skip
    write_report(session, module, time.monotonic() - start, note)


def write_report(session: Path, module: str, wall_s: float, note: str = "") -> None:
    """Counts per outcome, and every survivor with its diff, in bench/runs/mutation/."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    with use_db(session, WorkDB.Mode.open) as db:
        done = db.completed_work_items
        pending = len(db.pending_work_items)
    annotations = sum(r.worker_outcome == WorkerOutcome.SKIPPED for _, r in done)
    tested = [(i, r) for i, r in done if r.worker_outcome == WorkerOutcome.NORMAL]
    alive = [(i, r) for i, r in tested if r.test_outcome == TestOutcome.SURVIVED]
    errors = [(i, r) for i, r in done if r.worker_outcome == WorkerOutcome.EXCEPTION]
    slow = [(i, r) for i, r in tested if r.output == "timeout"]
    lines = [
        f"module: src/mucode/{module}",
        f"tests: {' '.join(MODULES[module])}",
        f"tool: {TOOL}",
        f"mutants: {len(done) + pending}; in annotations (skipped): {annotations}; "
        f"tested: {len(tested)}; killed: {len(tested) - len(alive)}; "
        f"survived: {len(alive)}; tool errors: {len(errors)}; pending: {pending}",
        f"of the killed, by running out of time: {len(slow)}",
        f"wall time of this run (a resumed session counts only its own): {wall_s:.0f} s",
        *([note] if note else []),
        "",
    ]
    for item, result in sorted(alive, key=lambda ir: tuple(ir[0].mutations[0].start_pos)):
        m = item.mutations[0]
        lines += [f"## survivor {m.operator_name} #{m.occurrence} at line {m.start_pos[0]}",
                  result.diff.strip(), ""]  # fmt: skip
    for item, result in sorted(slow, key=lambda ir: tuple(ir[0].mutations[0].start_pos)):
        m = item.mutations[0]
        lines += [f"## killed by timeout {m.operator_name} #{m.occurrence} at line "
                  f"{m.start_pos[0]}", result.diff.strip(), ""]  # fmt: skip
    for item, result in errors:
        lines += [f"## tool error {item.mutations[0].operator_name}", result.output.strip(), ""]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{session.stem}.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: lines.index("")]), flush=True)


def cosmic_ray(*args: str) -> None:
    """Run one cosmic-ray command in the copy, at low priority."""
    tool = str(Path(sys.executable).parent / args[0])
    subprocess.run(["nice", "-n", "15", tool, *args[1:]], cwd=WORK, env=run_env(), check=True)


def source_digest(module: str) -> str:
    """sha256 of the module's source in the copy (a session only resumes on the same one)."""
    return hashlib.sha256((WORK / "src" / "mucode" / module).read_bytes()).hexdigest()


def run_module(module: str) -> None:
    """Mutate one module, run its tests on every mutant, write its report; a session of the
    same source stopped part-way resumes instead."""
    tests = MODULES[module]
    timeout_s = max(60.0, 4 * baseline_s(tests))
    cfg = write_config(module, tests, timeout_s)
    session = cfg.with_suffix(".sqlite")
    digest = session.with_suffix(".source-sha256")
    start = time.monotonic()
    if session.exists() and digest.exists() and digest.read_text() == source_digest(module):
        print(f"{module}: resuming the session in {session}", flush=True)
    else:
        session.unlink(missing_ok=True)
        cosmic_ray("cosmic-ray", "init", str(cfg), str(session))
        digest.write_text(source_digest(module))
        annotations = skip_annotations(session, module)
        print(f"{module}: {annotations} mutants in annotations skipped", flush=True)
    cosmic_ray("cosmic-ray", "exec", str(cfg), str(session))
    write_report(session, module, time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"of {list(MODULES)} (default: all)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--survivors",
        action="store_true",
        help="re-test only the survivors of the last run, with the current tests",
    )
    again.add_argument(
        "--timeouts",
        action="store_true",
        help="re-test only the mutants that timed out (say, run beside other work)",
    )
    again.add_argument(
        "--exceptions",
        action="store_true",
        help="re-test the except-clause mutants (runs before CosmicRayTestingException was "
        "defined counted them killed by any exception)",
    )
    args = parser.parse_args()
    modules = [m if m.endswith(".py") else f"{m}.py" for m in args.modules] or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        sys.exit(f"unknown modules {unknown}; choose from {list(MODULES)}")
    ensure_tool()
    copy_tree()
    check_reach()
    for module in modules:
        again = [w for w in ("survivors", "timeouts", "exceptions") if getattr(args, w)]
        if again:
            retest(module, again[0])
        else:
            run_module(module)


if __name__ == "__main__":
    main()
