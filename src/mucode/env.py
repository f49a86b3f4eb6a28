"""The multi-turn environment: prompt, code extraction, public-test feedback, stopping.

Turn 1 shows the benchmark prompt; each later turn shows ``"Feedback: "`` and the public
tests' verdict text (the µCode reference's format). An episode stops when the code passes
the public tests or after ``max_turns``. Hidden tests are run for labels only: their
verdict is stored on the turn and never reaches a prompt or the stopping rule. A run the
sandbox failed on (``infra_error``) is retried; if the failure persists the episode ends
there, marked ``infra_error``, and its sandbox message never reaches a prompt.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from mucode.benchmarks import format_prompt
from mucode.calibration import ProblemLimits
from mucode.core.records import Message, Problem, Status, Trajectory, Turn, Verdict
from mucode.sandbox import Job, ProgramRunner

FEEDBACK_PREFIX = "Feedback: "
NO_CODE_FEEDBACK = (
    "Your answer contains no Python code. Reply with the complete implementation in a "
    "single ```python code block."
)
INFRA_RETRIES = 2  # re-runs of a program the sandbox failed on, before its infra_error stands
_FENCE = re.compile(r"^([ \t]*)`{3,}[ \t]*([A-Za-z0-9_+-]*)[^\n]*$", re.MULTILINE)
_PYTHON_TAGS = {"python", "python3", "py", ""}
_DEFINITION = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ExtractedCode:
    """The program taken from an answer; empty ``code`` means there was none."""

    code: str
    unclosed: bool = False  # the block had no closing fence (usually cut at max_tokens)


@dataclass(frozen=True, slots=True)
class _Block:
    """One fenced block: its language tag (lower case, "" if none) and its body."""

    tag: str
    code: str
    unclosed: bool


def extract_code(text: str, entry_point: str | None = None) -> ExtractedCode:
    """The program in a model's answer.

    Among the fenced blocks tagged Python or untagged that hold code, the first one that
    defines ``entry_point`` wins; failing that, the first that defines any function or
    class, a ```python block before an untagged one. A block cut off before its closing
    fence keeps what it has. Without any fence, an answer that is itself valid Python
    defining something is taken whole. Otherwise: no code.
    """
    blocks = [b for b in _fenced_blocks(text) if b.tag in _PYTHON_TAGS and b.code.strip()]
    if blocks:
        best = min(blocks, key=lambda b: _rank(b, entry_point))  # the first of equals
        return ExtractedCode(best.code, best.unclosed)
    if "```" not in text and _defines_something(text):
        return ExtractedCode(text.strip("\n"))
    return ExtractedCode("")


def _fenced_blocks(text: str) -> list[_Block]:
    """Fence lines taken in pairs: one opens a block, the next closes it; a last unpaired
    fence opens a block that runs to the end (an answer cut off at max_tokens).

    The body of an indented fence (e.g. in a list item) is dedented.
    """
    fences = list(_FENCE.finditer(text))
    blocks = []
    for opening, closing in zip(fences[::2], [*fences[1::2], None], strict=False):
        body = text[opening.end() + 1 : closing.start() if closing else len(text)].strip("\n")
        code = textwrap.dedent(body) if opening.group(1) else body
        blocks.append(_Block(opening.group(2).lower(), code, unclosed=closing is None))
    return blocks


def _rank(block: _Block, entry_point: str | None) -> tuple[bool, bool, bool]:
    """Sort key, best first: defines the entry point, defines anything, tagged Python."""
    names = set(_DEFINITION.findall(block.code))
    return entry_point not in names, not names, block.tag == ""


def _defines_something(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef | ast.ClassDef) for n in tree.body)


def no_code_verdict(n_tests: int) -> Verdict:
    """The verdict for an answer with no code: a failure that tells the model why."""
    return Verdict(Status.FAILED, NO_CODE_FEEDBACK, 0.0, 0, n_tests)


def judge(
    programs: Sequence[tuple[Problem, str]],
    sandbox: ProgramRunner,
    limits: ProblemLimits | None = None,
) -> list[tuple[Verdict, Verdict]]:
    """(public, oracle) verdicts for each (problem, code), run as one sandbox batch.

    Each problem runs under its wall limit from ``limits`` (None: the sandbox's own). An
    empty code is not run: both verdicts are the no-code failure. A run the sandbox
    failed on is re-run up to INFRA_RETRIES times; an ``infra_error`` left after that stands.
    """
    jobs = [job for problem, code in programs if code for job in _jobs(problem, code, limits)]
    verdicts = iter(run_with_retries(jobs, sandbox))
    return [
        (next(verdicts), next(verdicts)) if code
        else (no_code_verdict(len(p.public_tests)), no_code_verdict(len(p.all_tests)))
        for p, code in programs
    ]  # fmt: skip


def run_with_retries(jobs: Sequence[Job], sandbox: ProgramRunner) -> list[Verdict]:
    """Verdicts of ``jobs``, each ``infra_error`` re-run up to INFRA_RETRIES times."""
    verdicts = sandbox.run_many(jobs)
    for _ in range(INFRA_RETRIES):
        failed = [i for i, v in enumerate(verdicts) if v.status is Status.INFRA_ERROR]
        if not failed:
            break
        for i, verdict in zip(failed, sandbox.run_many([jobs[i] for i in failed]), strict=True):
            verdicts[i] = verdict
    return verdicts


def _jobs(problem: Problem, code: str, limits: ProblemLimits | None) -> tuple[Job, Job]:
    """Sandbox jobs for the public tests (feedback) and the oracle (label)."""
    p, timeout_s = problem, limits.timeout_s(problem.task_id) if limits is not None else None
    return (Job(code, p.public_tests, p.setup_code, timeout_s),
            Job(code, p.all_tests, p.setup_code, timeout_s))  # fmt: skip


@dataclass
class Episode:
    """One problem, one sample: the conversation so far and its turns."""

    problem: Problem
    sample_index: int
    max_turns: int
    messages: list[Message] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    context_full: bool = False
    infra_error: bool = False

    def __post_init__(self) -> None:
        if not self.messages:
            self.messages.append(Message("user", format_prompt(self.problem)))

    @property
    def done(self) -> bool:
        """Stop on a public-test pass, after the last turn, when the conversation no
        longer fits the engine's context, or when the sandbox kept failing (hidden tests
        play no part)."""
        return (
            self.context_full
            or self.infra_error
            or len(self.turns) >= self.max_turns
            or (bool(self.turns) and self.turns[-1].public.passed)
        )

    def record(self, turn: Turn) -> None:
        """Add a turn: the answer joins the conversation, then the public feedback if the
        episode goes on. A turn the sandbox failed to judge ends the episode: its feedback
        is about the sandbox, not the code, and never reaches the model."""
        self.messages.append(Message("assistant", turn.completion.text))
        self.turns.append(turn)
        self.infra_error = self.infra_error or turn.infra_error
        if not self.done:
            self.messages.append(Message("user", FEEDBACK_PREFIX + turn.public.feedback))

    def trajectory(self) -> Trajectory:
        """The finished (or current) episode as a record."""
        p = self.problem
        return Trajectory(p.task_id, p.benchmark, p.split, self.sample_index,
                          tuple(self.messages), tuple(self.turns), self.context_full,
                          self.infra_error)  # fmt: skip
