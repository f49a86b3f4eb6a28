"""The multi-turn environment: prompt, code extraction, public-test feedback, stopping.

Turn 1 shows the benchmark prompt; each later turn shows ``"Feedback: "`` and the public
tests' verdict text (the µCode reference's format). An episode stops when the code passes
the public tests or after ``max_turns``. Hidden tests are run for labels only: their
verdict is stored on the turn and never reaches a prompt or the stopping rule.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mucode.benchmarks import format_prompt
from mucode.records import Message, Problem, Status, Trajectory, Turn, Verdict
from mucode.sandbox import Job, Sandbox

FEEDBACK_PREFIX = "Feedback: "
NO_CODE_FEEDBACK = (
    "Your answer contains no Python code. Reply with the complete implementation in a "
    "single ```python code block."
)
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n", re.MULTILINE)
_PYTHON_TAGS = {"python", "python3", "py", ""}


@dataclass(frozen=True, slots=True)
class ExtractedCode:
    """The program taken from an answer; empty ``code`` means there was none."""

    code: str
    unclosed: bool = False  # the block had no closing fence (usually cut at max_tokens)


def extract_code(text: str) -> ExtractedCode:
    """The first ```python block (or, failing that, the first untagged block).

    A block without its closing fence keeps what it has. Without any fence, an answer
    that is itself valid Python defining something is taken whole. Otherwise: no code.
    """
    blocks = []
    for match in _FENCE.finditer(text):
        tag = match.group(1).lower()
        if tag not in _PYTHON_TAGS:
            continue
        start = match.end()
        end = text.find("```", start)
        body = text[start:] if end == -1 else text[start:end]
        blocks.append((tag != "", ExtractedCode(body.strip("\n"), unclosed=end == -1)))
        if tag:  # a tagged python block wins at once
            break
    tagged = [b for is_tagged, b in blocks if is_tagged]
    if tagged or blocks:
        chosen = (tagged or [b for _, b in blocks])[0]
        if chosen.code.strip():
            return chosen
    if "```" not in text and _defines_something(text):
        return ExtractedCode(text.strip("\n"))
    return ExtractedCode("")


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
    programs: Sequence[tuple[Problem, str]], sandbox: Sandbox
) -> list[tuple[Verdict, Verdict]]:
    """(public, oracle) verdicts for each (problem, code), run as one sandbox batch.

    An empty code is not run: both verdicts are the no-code failure.
    """
    jobs = [job for problem, code in programs if code for job in _jobs(problem, code)]
    verdicts = iter(sandbox.run_many(jobs))
    return [
        (next(verdicts), next(verdicts)) if code
        else (no_code_verdict(len(p.public_tests)), no_code_verdict(len(p.all_tests)))
        for p, code in programs
    ]  # fmt: skip


def _jobs(problem: Problem, code: str) -> tuple[Job, Job]:
    """Sandbox jobs for the public tests (feedback) and the oracle (label)."""
    p = problem
    return Job(code, p.public_tests, p.setup_code), Job(code, p.all_tests, p.setup_code)


@dataclass
class Episode:
    """One problem, one sample: the conversation so far and its turns."""

    problem: Problem
    sample_index: int
    max_turns: int
    messages: list[Message] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    context_full: bool = False

    def __post_init__(self) -> None:
        if not self.messages:
            self.messages.append(Message("user", format_prompt(self.problem)))

    @property
    def done(self) -> bool:
        """Stop on a public-test pass, after the last turn, or when the conversation no
        longer fits the engine's context (hidden tests play no part)."""
        return (
            self.context_full
            or len(self.turns) >= self.max_turns
            or (bool(self.turns) and self.turns[-1].public.passed)
        )

    def record(self, turn: Turn) -> None:
        """Add a turn: the answer joins the conversation, then the public feedback if the
        episode goes on."""
        self.messages.append(Message("assistant", turn.completion.text))
        self.turns.append(turn)
        if not self.done:
            self.messages.append(Message("user", FEEDBACK_PREFIX + turn.public.feedback))

    def trajectory(self) -> Trajectory:
        """The finished (or current) episode as a record."""
        p = self.problem
        return Trajectory(p.task_id, p.benchmark, p.split, self.sample_index,
                          tuple(self.messages), tuple(self.turns), self.context_full)  # fmt: skip
