"""Differential test: mucode's sandbox verdicts against plain `python3 solution.py`.

    python bench/differential.py [--runs bench/runs] [--limit N | --sample N --seed S]
        [--workers W] [--json OUT] [--plain-cache FILE] [--write-fixture FILE]

The rule under test: a program's verdict is what `python3 solution.py` gives, where
solution.py is the program, the problem's setup code and its tests in order, one module.
Every distinct (problem, program) stored under RUNS is judged twice:

- by the sandbox, on the oracle job as `env.judge` (rollout and search labels) and
  `mucode evaluate` build it: the stored code run as a whole program (HumanEval answers are
  whole programs too; only `completion` samples get the prompt prepended), the setup code,
  then public + private tests; default Limits, one `Sandbox.run_many` batch;
- by plain Python: `sys.executable solution.py` in a fresh temp dir, stdin from /dev/null,
  an environment of PATH, HOME and TMPDIR (the temp dir), LANG=C.UTF-8, PYTHONHASHSEED=0,
  the same wall limit and RLIMIT_AS, in a process pool of subprocess calls.

Plain outcomes: exit 0 after the last test -> passed; an exception traceback -> failed
(MemoryError -> crashed); another non-zero exit -> failed ("exit N": sys.exit and os._exit
look the same from outside); a signal -> crashed; the wall limit -> timeout. One line is
appended after the tests, writing a marker to fd 1: a run that exits 0 without it left
before its tests finished (sys.exit(0), unittest.main()), which the sandbox documents as
never passing, so it counts as failed ("exit 0 before the tests finished").

Prints the status matrix, the disagreements grouped by cause (status pair, the plain
traceback's exception, the sandbox feedback's), and, where both failed, how often they
blame a different first failing test. `--plain-cache` keeps plain outcomes keyed by
interpreter, limits and source, so a re-run after a sandbox change re-runs only the sandbox.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from mucode.benchmarks import load_problems
from mucode.core.records import Problem, Verdict
from mucode.env import extract_code
from mucode.sandbox import Job, Limits, Sandbox

MARKER = "mucode-differential: the tests finished"
TRAILER = f"__import__('os').write(1, b'\\n{MARKER}\\n')"
TAIL_BYTES = 64 * 1024
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
_SOLUTION_FRAME = re.compile(r'File "[^"]*solution\.py", line (\d+)')
_PLAIN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True, slots=True)
class Case:
    """One program to judge, with its problem."""

    problem: Problem
    program: str

    @property
    def job(self) -> Job:
        """The oracle job: program, setup code, public + private tests (both sides run it)."""
        return Job(self.program, self.problem.all_tests, self.problem.setup_code)

    @property
    def program_sha(self) -> str:
        return hashlib.sha256(self.program.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class PlainOutcome:
    """What `python3 solution.py` did."""

    status: str
    cause: str  # exception name, "exit N", "signal NAME", "timeout"; "" if passed
    failed_at: str | None  # "program", "setup", "test 3", ...; None when not known
    stderr_tail: str
    duration_s: float


def plain_source(job: Job) -> tuple[str, list[tuple[int, str]]]:
    """solution.py for ``job`` and the first line of each part: program, setup, tests."""
    parts = [("program", job.program), ("setup", job.setup_code)]
    parts += [(f"test {i}", test) for i, test in enumerate(job.tests)] + [("trailer", TRAILER)]
    starts, line = [], 1
    for name, text in parts:
        starts.append((line, name))
        line += text.count("\n") + 1
    return "\n".join(text for _, text in parts) + "\n", starts


def _set_limits(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _tail(path: Path) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - TAIL_BYTES))
        return f.read().decode("utf-8", "replace")


def _last_traceback(stderr: str) -> list[str]:
    """The lines of the last traceback (or SyntaxError report) in ``stderr``."""
    lines = stderr.splitlines()
    heads = [i for i, s in enumerate(lines) if s.startswith("Traceback (most recent call last)")]
    if not heads:
        heads = [i for i, s in enumerate(lines) if _SOLUTION_FRAME.search(s)][:1]
    return lines[heads[-1] :] if heads else []


def exception_name(stderr: str) -> str:
    """The exception class named at the end of the last traceback, or ""."""
    for line in _last_traceback(stderr)[1:]:
        if not line.startswith((" ", "\t")) and (m := _EXCEPTION_LINE.match(line)):
            return m.group(1)
    return ""


def failed_part(stderr: str, starts: list[tuple[int, str]]) -> str | None:
    """Which part of solution.py the last traceback's outermost own frame is in."""
    for line in _last_traceback(stderr):
        if m := _SOLUTION_FRAME.search(line):
            index = bisect.bisect_right([s for s, _ in starts], int(m.group(1))) - 1
            return starts[max(index, 0)][1]
    return None


def _classify(
    code: int | None, stdout: str, stderr: str, starts: list
) -> tuple[str, str, str | None]:
    if code is None:
        return "timeout", "timeout", None
    if code < 0:
        return "crashed", f"signal {signal.Signals(-code).name}", failed_part(stderr, starts)
    if code == 0:
        if MARKER in stdout:
            return "passed", "", None
        return "failed", "exit 0 before the tests finished", None
    name = exception_name(stderr)
    if not name:
        return "failed", f"exit {code}", None
    return ("crashed" if name == "MemoryError" else "failed"), name, failed_part(stderr, starts)


def run_plain(job: Job, timeout_s: float, memory_mb: int) -> PlainOutcome:
    """Run ``job`` as `python3 solution.py` in a fresh temp dir under the limits."""
    source, starts = plain_source(job)
    with tempfile.TemporaryDirectory(prefix="mucode-plain-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp, "work")
        work.mkdir()
        (work / "solution.py").write_text(source)
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        env = {**_PLAIN_ENV, "HOME": str(work), "TMPDIR": str(work)}
        start = time.monotonic()
        with out.open("wb") as out_f, err.open("wb") as err_f:
            proc = subprocess.Popen(
                [sys.executable, "solution.py"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                stdout=out_f, stderr=err_f, start_new_session=True,
                preexec_fn=lambda: _set_limits(memory_mb),
            )  # fmt: skip
            try:
                code: int | None = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                code = None
            with contextlib.suppress(ProcessLookupError):  # and what it left behind
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        duration = time.monotonic() - start
        stdout, stderr = _tail(out), _tail(err)
    status, cause, where = _classify(code, stdout, stderr, starts)
    return PlainOutcome(status, cause, where, stderr[-2000:], round(duration, 4))


def _cache_key(job: Job, limits: Limits) -> str:
    payload = [sys.version, limits.timeout_s, limits.memory_mb, plain_source(job)[0]]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def plain_outcomes(jobs: Sequence[Job], limits: Limits, workers: int,
                   cache: Path | None = None) -> list[PlainOutcome]:  # fmt: skip
    """Plain outcomes in input order; with ``cache``, reuse and extend a JSONL cache."""
    keys = [_cache_key(job, limits) for job in jobs]
    known: dict[str, PlainOutcome] = {}
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            row = json.loads(line)
            key = row.pop("key")  # before the outcome is built from the rest
            known[key] = PlainOutcome(**row)
    todo = [i for i, key in enumerate(keys) if key not in known]
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=fork) as pool:
        n = len(todo)
        args = ([jobs[i] for i in todo], [limits.timeout_s] * n, [limits.memory_mb] * n)
        for i, outcome in zip(todo, pool.map(run_plain, *args, chunksize=4), strict=True):
            known[keys[i]] = outcome
            if cache is not None:
                with cache.open("a") as f:
                    f.write(json.dumps({"key": keys[i], **asdict(outcome)}) + "\n")
    return [known[key] for key in keys]


def sandbox_verdicts(cases: Sequence[Case], sandbox: Sandbox) -> list[Verdict]:
    """The oracle verdict of each case, in one batch."""
    return sandbox.run_many([c.job for c in cases])


def sandbox_cause(verdict: Verdict) -> str:
    """A short name for why the sandbox did not pass a program ("" if it did)."""
    status, text = verdict.status.value, verdict.feedback.strip()
    lines = text.splitlines() or [""]
    if status in ("passed", "timeout"):
        return "" if status == "passed" else "timeout"
    if "\nExpected: " in text and "\nActual:" in text:
        return "assert == mismatch"
    m = _EXCEPTION_LINE.match(lines[-1])
    return m.group(1) if m and status == "failed" else lines[0][:60]


def first_failure_differs(verdict: Verdict, plain: PlainOutcome) -> bool:
    """Both failed, but not at the same test (program/setup failures count as test 0)."""
    if not (verdict.status.value == plain.status == "failed") or plain.failed_at is None:
        return False
    index = int(plain.failed_at.split()[1]) if plain.failed_at.startswith("test ") else 0
    return plain.failed_at != "trailer" and index != verdict.tests_passed


def disagreement_kind(verdict: Verdict, plain: PlainOutcome) -> str | None:
    """How the two disagree: on the "status", on the "first failure", or None."""
    if verdict.status.value != plain.status:
        return "status"
    return "first failure" if first_failure_differs(verdict, plain) else None


def disagreement_record(case: Case, verdict: Verdict, plain: PlainOutcome) -> dict:
    """One JSON record of a disagreement, for --json."""
    return {"kind": disagreement_kind(verdict, plain), "task_id": case.problem.task_id,
            "benchmark": case.problem.benchmark, "program_sha": case.program_sha,
            "sandbox": verdict.to_dict(), "sandbox_cause": sandbox_cause(verdict),
            "plain": asdict(plain), "program": case.program}  # fmt: skip


_HEADER = f"count  {'sandbox':<8} {'plain':<8} {'plain cause':<34} {'sandbox cause':<34} examples"


def _row(ids: list[str], statuses: tuple[str, str], causes: tuple[str, str]) -> str:
    examples = ", ".join(list(dict.fromkeys(ids))[:4])
    (s, p), (pc, sc) = statuses, causes
    return f"{len(ids):5d}  {s:<8} {p:<8} {pc[:34]:<34} {sc[:34]:<34} {examples}"


def report(cases: Sequence[Case], verdicts: Sequence[Verdict],
           plains: Sequence[PlainOutcome]) -> str:  # fmt: skip
    """The status matrix, disagreements by cause, and first-failure differences."""
    matrix = Counter((v.status.value, p.status) for v, p in zip(verdicts, plains, strict=True))
    groups: dict[tuple, list[str]] = defaultdict(list)
    for case, v, p in zip(cases, verdicts, plains, strict=True):
        if kind := disagreement_kind(v, p):
            key = (kind, (v.status.value, p.status), (p.cause, sandbox_cause(v)))
            groups[key].append(case.problem.task_id)
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    n_bad = sum(len(ids) for (kind, *_), ids in ordered if kind == "status")
    n_idx = sum(len(ids) for (kind, *_), ids in ordered if kind != "status")
    out = [f"programs: {len(cases)}   agree: {len(cases) - n_bad}   disagree: {n_bad}", "",
           "status matrix (sandbox -> plain):"]  # fmt: skip
    out += [f"  {s:>11} -> {p:<8} {n:5d}" for (s, p), n in sorted(matrix.items())]
    out += ["", _HEADER]
    out += [_row(ids, st, ca) for (kind, st, ca), ids in ordered if kind == "status"]
    out += ["", f"both failed, different first failing test: {n_idx} (not counted above)"]
    out += [_row(ids, st, ca) for (kind, st, ca), ids in ordered if kind != "status"]
    return "\n".join(out)


def _stored_codes(runs: Path) -> list[tuple[str, str, str, str, str]]:
    """(benchmark, split, task_id, code, answer text) of every judged turn and candidate."""
    rows = []
    paths = sorted(runs.glob("mbpp-*/trajectories.jsonl"))
    for path in paths + sorted(runs.glob("search-humaneval-*/searches.jsonl")):
        for r in map(json.loads, path.read_text().splitlines()):
            answers = [c for t in r["turns"] for c in t.get("candidates", [t])]
            rows += [(r["benchmark"], r["split"], r["task_id"], a["code"],
                      a["completion"]["text"]) for a in answers]  # fmt: skip
    return rows


def _cached_answers(runs: Path, seen_texts: set[str], humaneval: list[Problem]) -> tuple[list, int]:
    """Answer-cache entries not already stored with a task: attributed to the one
    HumanEval problem whose entry point their code defines; also how many could not be."""
    path = runs / "humaneval-answers.jsonl"
    if not path.exists():
        return [], 0
    rows, unattributed = [], 0
    for line in path.read_text().splitlines():
        text = json.loads(line)["completion"]["text"]
        if text in seen_texts:
            continue
        code = extract_code(text).code
        owners = [p for p in humaneval if re.search(rf"\bdef {p.entry_point}\(", code)]
        if len(owners) == 1:
            rows.append((owners[0].benchmark, owners[0].split, owners[0].task_id, code, text))
        else:
            unattributed += 1
    return rows, unattributed


def collect(runs: Path, data_dir: Path | None) -> tuple[list[Case], dict[str, int]]:
    """Every distinct non-empty (problem, program) under ``runs``, in first-seen order."""
    rows = _stored_codes(runs)
    humaneval = load_problems("humaneval")
    extra, unattributed = _cached_answers(runs, {r[4] for r in rows}, humaneval)
    problems = {("humaneval", p.task_id): p for p in humaneval}
    for split in sorted({r[1] for r in rows if r[0] == "mbpp"}):
        problems.update({("mbpp", p.task_id): p for p in load_problems("mbpp", split, data_dir)})
    distinct = dict.fromkeys((r[0], r[2], r[3]) for r in rows + extra)
    cases = [Case(problems[(b, t)], code) for b, t, code in distinct if code.strip()]
    stats = {"answers read": len(rows), "cache answers not stored with a task": len(extra),
             "cache answers unattributed": unattributed, "distinct programs": len(distinct),
             "empty (not run by mucode)": len(distinct) - len(cases),
             "stored code != extract_code(text)": sum(extract_code(r[4]).code != r[3]
                                                      for r in rows)}  # fmt: skip
    return cases, stats


def write_fixture(path: Path, picked: list[tuple[Case, str]], about: str) -> None:
    """A small JSON fixture: the programs and their problems' tests, nothing else."""
    keep = ("task_id", "benchmark", "split", "entry_point", "setup_code", "public_tests",
            "private_tests")  # fmt: skip
    problems = {c.problem.task_id: {k: getattr(c.problem, k) for k in keep} for c, _ in picked}
    programs = [{"task_id": c.problem.task_id, "why": why, "program": c.program}
                for c, why in picked]  # fmt: skip
    data = {"about": about, "problems": problems, "programs": programs}
    path.write_text(json.dumps(data, indent=1) + "\n")


def pick_for_fixture(cases, verdicts, plains, size: int, seed: int) -> list[tuple[Case, str]]:
    """Every quick disagreement, then a seeded sample of quick agreeing programs."""
    quick = [
        (c, v, p)
        for c, v, p in zip(cases, verdicts, plains, strict=True)
        if max(v.duration_s, p.duration_s) < 1 and "timeout" not in (v.status.value, p.status)
    ]
    bad = [(c, "disagreed") for c, v, p in quick if disagreement_kind(v, p)]
    good = [(c, "sample") for c, v, p in quick if not disagreement_kind(v, p)]
    random.Random(seed).shuffle(good)
    return bad[:size] + good[: max(0, size - len(bad))]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path(__file__).parent / "runs")
    parser.add_argument("--data-dir", type=Path, help="MBPP data (else $MUCODE_DATA_DIR)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N programs")
    parser.add_argument("--sample", type=int, default=0, help="a random N programs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write every disagreement here (JSON lines)")
    parser.add_argument("--plain-cache", type=Path, help="JSONL cache of plain outcomes")
    parser.add_argument("--write-fixture", type=Path, help="write the CI test's fixture here")
    parser.add_argument("--fixture-size", type=int, default=300)
    return parser.parse_args(argv)


def _log(message: str, start: float) -> None:
    print(f"[{time.monotonic() - start:7.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    start = time.monotonic()
    cases, stats = collect(args.runs, args.data_dir)
    _log(" | ".join(f"{k}: {v}" for k, v in stats.items()), start)
    if args.sample:
        cases = random.Random(args.seed).sample(cases, min(args.sample, len(cases)))
    if args.limit:
        cases = cases[: args.limit]
    jobs = [c.job for c in cases]
    with Sandbox(workers=args.workers) as sandbox:
        limits = sandbox.limits
        verdicts = sandbox_verdicts(cases, sandbox)
    _log(f"sandbox: {len(jobs)} programs", start)
    plains = plain_outcomes(jobs, limits, args.workers, args.plain_cache)
    _log(f"plain python: {len(jobs)} programs", start)
    print(report(cases, verdicts, plains))
    if args.json:
        triples = zip(cases, verdicts, plains, strict=True)
        rows = [disagreement_record(c, v, p) for c, v, p in triples if disagreement_kind(v, p)]
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if args.write_fixture:
        picked = pick_for_fixture(cases, verdicts, plains, args.fixture_size, args.seed)
        about = (f"bench/differential.py --write-fixture --fixture-size {args.fixture_size} "
                 f"--seed {args.seed}: every program under 1 s that disagreed with plain "
                 "Python ('disagreed'), then a seeded sample of the others ('sample')")  # fmt: skip
        write_fixture(args.write_fixture, picked, about)
    _log("done", start)


if __name__ == "__main__":
    main()
