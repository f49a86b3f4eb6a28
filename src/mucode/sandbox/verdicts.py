"""Turn what a worker observed of a child run into a verdict (a plain dict on the wire).

Only a final report carrying the run's nonce, preceded by a progress line for every
test, can say ``passed``; exit codes and output never can.
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass, field

from mucode.core.records import Status
from mucode.sandbox.feedback import truncate_middle

OUTPUT_TAIL_CHARS = 800
_PROGRAM_STATUSES = {s.value for s in (Status.PASSED, Status.FAILED, Status.CRASHED)}
_SIGNAL_NAMES = {s.value: s.name for s in signal.Signals}  # Linux's 32-63 are mostly unnamed


@dataclass
class Observed:
    """What the worker saw of one child run."""

    output: bytearray = field(default_factory=bytearray)
    report: bytearray = field(default_factory=bytearray)
    timed_out: bool = False
    wait_status: int = 0


@dataclass
class Report:
    """The nonce-tagged lines of one run."""

    confined: bool = False
    loaded: bool = False
    tests_passed: int = 0
    final: tuple[str, str] | None = None
    values: list[list] = field(default_factory=list)  # [test, key, wire value], in order


def parse_report(raw: bytes, nonce: str) -> Report:
    """Keep only lines that start with ``nonce``; progress must count up from 0. A line that
    does not parse (not hex, a key ``int`` refuses) is ignored: the program can reach the
    reporter and write any line, and it must not make the worker fail."""
    report = Report()
    tag = nonce.encode()
    for line in raw.split(b"\n"):
        parts = line.split(b" ", 3)
        if len(parts) < 2 or parts[0] != tag:
            continue
        kind = parts[1]
        if kind == b"C":
            report.confined = True
        elif kind == b"L":
            report.loaded = True
        elif kind == b"P" and len(parts) == 3 and parts[2] == str(report.tests_passed).encode():
            report.tests_passed += 1
        elif kind == b"V" and len(parts) == 4 and parts[2].isdigit() and report.final is None:
            wire = parts[3].decode("ascii", "replace")
            with contextlib.suppress(ValueError):  # over int()'s 4300 digits
                report.values.append([report.tests_passed, int(parts[2]), wire])
        elif kind == b"F" and len(parts) == 4 and report.final is None:
            with contextlib.suppress(ValueError):  # not hex
                hex_text = parts[3].decode("ascii", "replace")
                text = bytes.fromhex(hex_text).decode("utf-8", "replace")
                report.final = (parts[2].decode("ascii", "replace"), text)
    return report


def _verdict(status: Status, feedback: str, duration: float, passed: int, job: dict) -> dict:
    return {
        "status": status.value,
        "feedback": truncate_middle(feedback, job["limits"]["feedback_chars"]),
        "duration_s": round(duration, 6),
        "tests_passed": passed,
        "tests_total": len(job["tests"]),
    }


def judge(job: dict, nonce: str, seen: Observed, duration: float) -> dict:
    """The verdict for one run, with the values its tests reported for the pool to check
    (``values``: ``[test, key, wire value]`` in report order). Judging fails closed: the
    report and the output are the program's doing, so a bug they find in the judging makes
    the run ``failed``, never ``infra_error`` (which would take it out of the accuracies)."""
    try:
        report = parse_report(bytes(seen.report), nonce)
        verdict = _judge(job, report, seen, duration)
    except Exception as e:  # noqa: BLE001 - any bug a program can reach must not excuse it
        message = f"the run could not be judged ({type(e).__name__}: {e}); counted as failed"
        return {**_verdict(Status.FAILED, message, duration, 0, job), "values": []}
    verdict["values"] = report.values if report.confined else []
    return verdict


def infra_verdict(message: str, job: dict) -> dict:
    """A verdict that blames the sandbox, not the program."""
    return _verdict(Status.INFRA_ERROR, message, 0.0, 0, job)


def _output_tail(seen: Observed) -> str:
    text = seen.output.decode("utf-8", "replace").strip()
    if not text:
        return ""
    return "\nOutput (last part):\n" + text[-OUTPUT_TAIL_CHARS:]


def _timeout_feedback(job: dict, report: Report, cpu: bool) -> str:
    limit = (
        f"CPU-time limit of {job['limits']['cpu_s']} s"
        if cpu
        else (f"time limit of {job['limits']['timeout_s']:g} s")
    )
    tests, tests_passed = job["tests"], report.tests_passed
    if not report.loaded:
        where = "while running the program's top-level code (before any test)"
    elif tests_passed < len(tests):
        where = f"while running this test:\n{tests[tests_passed].strip()}"
    else:
        where = "after the tests finished"
    return f"Timeout: the program exceeded the {limit} {where}\n(an infinite loop, or too slow)"


def _crash_feedback(seen: Observed) -> str:
    if seen.wait_status and (sig := _signal_of(seen.wait_status)):
        if sig == signal.SIGXFSZ:
            why = "it wrote a file larger than the file-size limit"
        elif sig == signal.SIGKILL:
            why = "it was killed (SIGKILL, usually the memory limit)"
        else:
            why = f"it was killed by signal {_SIGNAL_NAMES.get(sig, sig)}"
    else:
        code = seen.wait_status >> 8
        why = f"it exited with code {code} before the tests finished"
    return f"The program crashed: {why}." + _output_tail(seen)


def _signal_of(wait_status: int) -> int:
    return wait_status & 0x7F if (wait_status & 0x7F) not in (0, 0x7F) else 0


def _judge(job: dict, report: Report, seen: Observed, duration: float) -> dict:
    passed = report.tests_passed
    if not report.confined:
        why = "did not finish in time" if seen.timed_out else "failed" + _output_tail(seen)
        return _verdict(Status.INFRA_ERROR, f"sandbox set-up {why}", duration, 0, job)
    cpu_limit = _signal_of(seen.wait_status) == signal.SIGXCPU
    if seen.timed_out or cpu_limit:
        text = _timeout_feedback(job, report, cpu=cpu_limit and not seen.timed_out)
        return _verdict(Status.TIMEOUT, text, duration, passed, job)
    if report.final is None:
        return _verdict(Status.CRASHED, _crash_feedback(seen), duration, passed, job)
    status, text = report.final
    if status not in _PROGRAM_STATUSES:
        return _verdict(Status.CRASHED, "The test report was unreadable.", duration, passed, job)
    if status == Status.PASSED.value and passed != len(job["tests"]):
        return _verdict(Status.CRASHED, "The test run ended early.", duration, passed, job)
    return _verdict(Status(status), text, duration, passed, job)
