"""Reading a run's report lines and turning them into a verdict (no sandbox needed)."""

from __future__ import annotations

import importlib.machinery
import os
import py_compile
import signal
import sys
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mucode.sandbox import verdicts
from mucode.sandbox.verdicts import Observed, Report, _signal_of, infra_verdict, judge, parse_report

NONCE = "ab12"
JOB = {"tests": ["assert f() == 1", "assert f() == 2"], "limits": {
    "feedback_chars": 2000, "timeout_s": 10.0, "cpu_s": 12}}  # fmt: skip


def report(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


def final(status: str, text: str = "ok") -> str:
    return f"{NONCE} F {status} {text.encode().hex()}"


def observed(*lines: str, timed_out: bool = False, wait_status: int = 0) -> Observed:
    return Observed(report=bytearray(report(*lines)), timed_out=timed_out, wait_status=wait_status)


def test_only_lines_with_the_runs_nonce_count():
    raw = report("x C", "x L", "x P 0", final("failed").replace(NONCE, "x"), "P 0",
                 f"{NONCE}C", f"{NONCE} C", f"{NONCE} P 0", final("failed", "boom"))  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.confined and not parsed.loaded
    assert parsed.tests_passed == 1
    assert parsed.final == ("failed", "boom")


def test_progress_must_count_up_from_zero_and_the_first_final_wins():
    raw = report(f"{NONCE} P 1", f"{NONCE} P 0", f"{NONCE} P 0", f"{NONCE} P 1",
                 final("failed", "first"), final("passed", "second"))  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.tests_passed == 2
    assert parsed.final == ("failed", "first")


def test_values_belong_to_the_test_running_when_they_were_reported():
    raw = report(f"{NONCE} C", f"{NONCE} V 0 [1]", f"{NONCE} P 0", f"{NONCE} V 1 [2, 3]",
                 f"{NONCE} V x [4]", final("failed"), f"{NONCE} V 2 [5]")  # fmt: skip
    assert parse_report(raw, NONCE).values == [[0, 0, "[1]"], [1, 1, "[2, 3]"]]


@pytest.mark.parametrize(
    ("seen", "status", "words"),
    [
        (observed(), "infra_error", "sandbox set-up failed"),
        (observed(timed_out=True), "infra_error", "did not finish in time"),
        (observed(f"{NONCE} C", f"{NONCE} L", timed_out=True), "timeout", "assert f() == 1"),
        (observed(f"{NONCE} C", wait_status=signal.SIGXCPU), "timeout", "CPU-time limit"),
        (observed(f"{NONCE} C", wait_status=signal.SIGKILL), "crashed", "SIGKILL"),
        (observed(f"{NONCE} C", f"{NONCE} P 0", final("passed")), "crashed", "ended early"),
        (observed(f"{NONCE} C", final("bogus")), "crashed", "unreadable"),
        (observed(f"{NONCE} C", final("failed", "why")), "failed", "why"),
        (observed(f"{NONCE} C", f"{NONCE} P 0", f"{NONCE} P 1", final("passed")), "passed", "ok"),
    ],
)
def test_judge(seen, status, words):
    verdict = judge(JOB, NONCE, seen, 0.5)
    assert verdict["status"] == status
    assert words in verdict["feedback"]
    assert verdict["tests_total"] == 2


def test_lines_too_short_or_too_long_for_their_kind_are_ignored():
    raw = report(NONCE, f"{NONCE} C", f"{NONCE} P", f"{NONCE} P 0 extra", f"{NONCE} V 0",
                 f"{NONCE} F passed")  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.confined and parsed.tests_passed == 0
    assert parsed.values == [] and parsed.final is None


def test_the_verdict_carries_the_reported_values_only_from_a_confined_run():
    lines = (f"{NONCE} V 0 [1]", final("failed"))
    assert judge(JOB, NONCE, observed(f"{NONCE} C", *lines), 0.5)["values"] == [[0, 0, "[1]"]]
    assert judge(JOB, NONCE, observed(*lines), 0.5)["values"] == []


def test_the_duration_is_kept_to_the_microsecond():
    seen = observed(f"{NONCE} C", final("failed"))
    assert judge(JOB, NONCE, seen, 0.12345678)["duration_s"] == 0.123457


@pytest.mark.parametrize(
    ("lines", "timed_out", "wait_status", "words"),
    [
        ((f"{NONCE} C",), True, 0, "time limit of 10 s while running the program's top-level"),
        ((f"{NONCE} C", f"{NONCE} L", f"{NONCE} P 0", f"{NONCE} P 1"), True, 0,
         "after the tests finished"),
        ((f"{NONCE} C", f"{NONCE} L"), True, signal.SIGXCPU, "the time limit of 10 s"),
        ((f"{NONCE} C", f"{NONCE} L"), False, signal.SIGXCPU, "CPU-time limit of 12 s"),
    ],
)  # fmt: skip
def test_timeout_feedback_says_which_limit_and_where(lines, timed_out, wait_status, words):
    verdict = judge(JOB, NONCE, observed(*lines, timed_out=timed_out, wait_status=wait_status), 1)
    assert verdict["status"] == "timeout" and words in verdict["feedback"]


@pytest.mark.parametrize(
    ("wait_status", "words"),
    [
        (signal.SIGXFSZ, "larger than the file-size limit"),
        (signal.SIGSEGV, "killed by signal SIGSEGV"),
        (3 << 8, "exited with code 3 before the tests finished"),
        (0x7F, "exited with code 0"),  # a stopped child's status is no signal
    ],
)
def test_crash_feedback_names_the_signal_or_exit_code(wait_status, words):
    verdict = judge(JOB, NONCE, observed(f"{NONCE} C", wait_status=wait_status), 0.5)
    assert verdict["status"] == "crashed" and words in verdict["feedback"]


def test_crash_feedback_shows_the_last_800_characters_of_output():
    seen = observed(f"{NONCE} C", wait_status=1 << 8)
    seen.output = bytearray(b"a" * 100 + b"b" * 800 + b"\n")
    feedback = judge(JOB, NONCE, seen, 0.5)["feedback"]
    assert feedback.endswith("\nOutput (last part):\n" + "b" * 800)
    seen.output = bytearray(b"  \n")
    assert "Output" not in judge(JOB, NONCE, seen, 0.5)["feedback"]


def test_lines_tagged_with_another_nonce_are_ignored_whatever_it_sorts_as():
    for tag in ("", "a", "ab11", "ab1", "ab13", "b", "AB12"):
        raw = report(f"{tag} C", f"{tag} L", f"{tag} P 0", f"{tag} V 0 [1]",
                     final("passed").replace(NONCE, tag, 1))  # fmt: skip
        assert parse_report(raw, NONCE) == Report(), tag


def test_lines_of_a_kind_the_harness_never_writes_are_ignored():
    # A program that reaches the reporter can write any line under the nonce.
    kinds = ("", "A", "B", "E", "O", "W", "c", "f", "p", "v", "CC", "PP", "VV", "FF")
    raw = report(*(f"{NONCE} {kind} 0 {b'ok'.hex()}" for kind in kinds),
                 *(f"{NONCE} {kind} 0" for kind in kinds), *(f"{NONCE} {kind}" for kind in kinds),
                 f"{NONCE} E passed {b'ok'.hex()}", f"{NONCE} W 0 [1]")  # fmt: skip
    assert parse_report(raw, NONCE) == Report()


def test_progress_that_skips_a_test_stops_counting():
    assert parse_report(report(f"{NONCE} P 1"), NONCE).tests_passed == 0
    raw = report(f"{NONCE} P 0", f"{NONCE} P 2", f"{NONCE} P 3", f"{NONCE} P 10")
    assert parse_report(raw, NONCE).tests_passed == 1


def test_every_line_kind_is_read_when_the_module_is_loaded_from_its_bytecode(tmp_path, monkeypatch):
    """Workers may import this module from a .pyc, where a 1-byte bytes constant is not
    CPython's cached 1-byte object: ``kind is b"C"`` would hold from source, not from there."""
    cached = py_compile.compile(verdicts.__file__, cfile=str(tmp_path / "verdicts.pyc"))
    loader = importlib.machinery.SourcelessFileLoader("verdicts_from_pyc", cached)
    module = types.ModuleType(loader.name)
    monkeypatch.setitem(sys.modules, loader.name, module)  # dataclasses look it up
    loader.exec_module(module)
    raw = report(f"{NONCE} C", f"{NONCE} L", f"{NONCE} V 0 [1]", f"{NONCE} P 0",
                 f"{NONCE} P 1", final("passed", "all"))  # fmt: skip
    parsed = module.parse_report(raw, NONCE)
    assert (parsed.confined, parsed.loaded, parsed.tests_passed) == (True, True, 2)
    assert parsed.values == [[0, 0, "[1]"]] and parsed.final == ("passed", "all")


def test_progress_counts_past_ten_and_past_the_cached_small_ints():
    """Both sides of the count are built at run time: from 10 on they are new bytes objects,
    from 257 on new ints, so only ``==`` compares them."""
    job = {**JOB, "tests": [f"assert f({i}) == {i}" for i in range(300)]}
    progress = [f"{NONCE} P {i}" for i in range(300)]
    assert parse_report(report(*progress), NONCE).tests_passed == 300
    verdict = judge(job, NONCE, observed(f"{NONCE} C", f"{NONCE} L", *progress, final("passed")), 1)
    assert (verdict["status"], verdict["tests_passed"], verdict["tests_total"]) == (
        "passed",
        300,
        300,
    )
    seen = observed(f"{NONCE} C", f"{NONCE} L", *progress, timed_out=True)
    assert "after the tests finished" in judge(job, NONCE, seen, 1)["feedback"]
    seen = observed(f"{NONCE} C", f"{NONCE} L", *progress[:299], timed_out=True)
    assert (
        "while running this test:\nassert f(299) == 299" in judge(job, NONCE, seen, 1)["feedback"]
    )


def test_more_progress_lines_than_tests_is_not_a_pass():
    """The reporter can be reached by the program; progress past the last test is forged."""
    extra = (f"{NONCE} C", f"{NONCE} L", f"{NONCE} P 0", f"{NONCE} P 1", f"{NONCE} P 2")
    verdict = judge(JOB, NONCE, observed(*extra, final("passed")), 0.5)
    assert verdict["status"] == "crashed" and "ended early" in verdict["feedback"]
    verdict = judge(JOB, NONCE, observed(*extra, timed_out=True), 0.5)
    assert verdict["status"] == "timeout" and "after the tests finished" in verdict["feedback"]


def test_infra_verdict_blames_the_sandbox_with_no_time_and_no_test_passed():
    assert infra_verdict("worker lost", JOB) == {
        "status": "infra_error", "feedback": "worker lost", "duration_s": 0.0,
        "tests_passed": 0, "tests_total": 2}  # fmt: skip


def test_a_set_up_failure_passes_no_test_whatever_the_report_says():
    seen = observed(f"{NONCE} L", f"{NONCE} P 0", f"{NONCE} P 1", final("passed"))
    verdict = judge(JOB, NONCE, seen, 0.25)
    assert verdict["status"] == "infra_error" and "sandbox set-up failed" in verdict["feedback"]
    assert (verdict["tests_passed"], verdict["duration_s"]) == (0, 0.25)


def test_a_fresh_observation_is_a_normal_exit_with_nothing_seen():
    """The worker fills in an ``Observed()``: only a deadline sets ``timed_out``."""
    fresh = Observed()
    assert (fresh.output, fresh.report, fresh.timed_out, fresh.wait_status) == (b"", b"", False, 0)
    fresh.report += report(f"{NONCE} C")
    verdict = judge(JOB, NONCE, fresh, 0.5)
    assert verdict["status"] == "crashed"
    assert (
        verdict["feedback"]
        == "The program crashed: it exited with code 0 before the tests finished."
    )


@pytest.mark.parametrize(
    ("wait_status", "words"),
    [
        (signal.SIGKILL, "it was killed (SIGKILL, usually the memory limit)."),
        (signal.SIGHUP, "it was killed by signal SIGHUP."),
        (signal.SIGABRT, "it was killed by signal SIGABRT."),
        (signal.SIGFPE, "it was killed by signal SIGFPE."),
        (signal.SIGSYS, "it was killed by signal SIGSYS."),
        (signal.SIGVTALRM, "it was killed by signal SIGVTALRM."),
        (0x80 | signal.SIGSEGV, "it was killed by signal SIGSEGV."),  # it dumped core
        (0x80 | signal.SIGKILL, "it was killed (SIGKILL, usually the memory limit)."),
        (signal.SIGRTMIN, "it was killed by signal SIGRTMIN."),
        (40, "it was killed by signal 40."),  # real-time signals Python has no name for
        (32, "it was killed by signal 32."),
    ],
)
def test_crash_feedback_names_every_signal_by_itself(wait_status, words):
    verdict = judge(JOB, NONCE, observed(f"{NONCE} C", wait_status=wait_status), 0.5)
    assert verdict["status"] == "crashed"
    assert verdict["feedback"] == f"The program crashed: {words}"


@pytest.mark.parametrize("wait_status", [signal.SIGSTOP << 8 | 0x7F, signal.SIGTSTP << 8 | 0x7F,
                                         0xFFFF])  # fmt: skip
def test_a_stopped_or_continued_status_names_no_signal(wait_status):
    verdict = judge(JOB, NONCE, observed(f"{NONCE} C", wait_status=wait_status), 0.5)
    assert verdict["status"] == "crashed" and "signal" not in verdict["feedback"]


def test_the_signal_of_a_wait_status_is_what_os_wtermsig_says():
    for status in range(1 << 16):
        expected = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        assert _signal_of(status) == expected, hex(status)


def test_a_line_that_does_not_parse_is_ignored_and_the_harness_line_counts():
    """The program can write any line under the nonce; one that does not parse must not
    make the worker fail (the job would be left out as ``infra_error``)."""
    forged = (f"{NONCE} F passed zz", f"{NONCE} F passed 6f6", f"{NONCE} V {'1' * 5000} [1]")
    raw = report(f"{NONCE} C", f"{NONCE} L", *forged, f"{NONCE} V 0 [2]", f"{NONCE} P 0",
                 final("failed", "the real one"))  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.values == [[0, 0, "[2]"]] and parsed.final == ("failed", "the real one")
    verdict = judge(JOB, NONCE, observed(*forged), 0.5)
    assert verdict["status"] == "infra_error" and "set-up failed" in verdict["feedback"]


_FIELD = st.text(alphabet="0123456789abcdefCFLPV xyz\n\u00e9", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(st.sampled_from(["C", "L", "P", "V", "F", "X", ""]), _FIELD, _FIELD)),
    timed_out=st.booleans(),
    wait_status=st.integers(0, 0xFFFF),
)
def test_judge_returns_a_verdict_for_any_report(lines, timed_out, wait_status):
    raw = report(*(f"{NONCE} {kind} {a} {b}" for kind, a, b in lines))
    seen = Observed(report=bytearray(raw), timed_out=timed_out, wait_status=wait_status)
    verdict = judge(JOB, NONCE, seen, 0.5)
    assert verdict["status"] in {"passed", "failed", "timeout", "crashed", "infra_error"}
    assert verdict["status"] != "passed" or verdict["tests_passed"] == 2


def test_a_run_whose_judging_raises_is_failed_not_left_out(monkeypatch):
    def broken(*args):
        raise IndexError("a report shape nobody planned for")

    monkeypatch.setattr(verdicts, "_judge", broken)
    seen = Observed(report=bytearray(report(f"{NONCE} P 0 0", f"{NONCE} P 1 0")))
    verdict = judge(JOB, NONCE, seen, 0.5)
    assert verdict["status"] == "failed" and verdict["tests_passed"] == 0
    assert "IndexError: a report shape nobody planned for" in verdict["feedback"]
    assert verdict["values"] == []
