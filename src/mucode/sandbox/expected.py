"""Keep a test's expected values out of the program's reach (runs in the pool only).

A test ``assert <expr> == <literal>`` (either side literal) is sent to the child with the
literal replaced by a placeholder name: the child evaluates ``<expr>`` and reports its
value in a safe wire form (``values``); the pool compares it with the literal using
Python's own ``==`` on plain values. The child never holds the expected value, so it can
neither read it nor fake a report that matches it. Asserts of that shape are taken out at
a test's top level and at the top level of a ``check`` function that the test calls once
at its top level (HumanEval's form), where every such assert runs whenever the test
completes; so a test that completes without reporting one of its values has been
tampered with and fails. Other asserts run inside the child as written.

A differential test (MBPP+: its first statements name the reference solution and the
inputs, see ``benchmarks.mbpp_plus``) reaches the child as a loop that reports the
candidate's output on each input; the reference's outputs are computed in a separate
sandboxed run (``references``) and compared here with ``plus_oracle.same``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mucode.benchmarks.mbpp_plus import INPUTS_NAME, SPEC_NAME
from mucode.benchmarks.plus_oracle import same
from mucode.core.records import Status
from mucode.sandbox import values
from mucode.sandbox.feedback import assertion_feedback, truncate_middle
from mucode.sandbox.harness import PLACEHOLDER_HEAD, PLACEHOLDER_TAIL, VALUE_HOOK

PLACEHOLDER = PLACEHOLDER_HEAD + "{}" + PLACEHOLDER_TAIL  # the harness knows this shape only
_CHECK_FUNCTION = "check"
UNREPORTED_NOTE = (
    "The test did not report all of its results: a result whose own __eq__ answers for it "
    "is not compared. Return plain values (numbers, strings, lists, tuples, dicts, sets)."
)
UNSUPPORTED_NOTE = (
    "\nThe result is a {} object: mucode compares results with expected values outside "
    "the program, as plain values (None, bool, int, float, complex, str, bytes, list, "
    "tuple, dict, set, frozenset, Fraction, Decimal); return one of those."
)


@dataclass(frozen=True)
class ReferenceValue:
    """The reference solution's output on input ``index`` of differential test ``digest``."""

    digest: str
    index: int


@dataclass(frozen=True)
class Expectation:
    """One value the pool checks: the expected value (a literal's, or a reference output),
    its source text, the statement it came from, and for differential tests the
    ``(atol, oracle)`` of ``plus_oracle.same`` (None: Python's ``==``)."""

    value: Any
    source: str
    statement: str
    tolerance: tuple[float, str] | None = None


@dataclass(frozen=True)
class Differential:
    """A differential test as the pool sees it: what the reference must be run on."""

    digest: str
    reference: str
    entry_point: str
    inputs_source: str  # the statement that assigns the inputs list
    count: int

    def child_loop(self, first_key: int) -> str:
        """Source that reports the candidate's (or the reference's) output on each input
        as expectations ``first_key``, ``first_key + 1``, ..."""
        return (
            f"{self.inputs_source}\nimport copy as _mucode_copy\n"
            f"for _mucode_i, _mucode_args in enumerate({INPUTS_NAME}):\n"
            f"    {VALUE_HOOK}({first_key} + _mucode_i, "
            f"{self.entry_point}(*_mucode_copy.deepcopy(_mucode_args)))\n"
            f"del _mucode_i, _mucode_args, _mucode_copy, {INPUTS_NAME}\n"
        )


@dataclass
class PreparedTests:
    """Tests as the child gets them, and what the pool kept back."""

    child_tests: list[str]
    expectations: dict[int, Expectation] = field(default_factory=dict)
    test_of: dict[int, int] = field(default_factory=dict)  # expectation -> test index
    differentials: list[Differential] = field(default_factory=list)

    def required(self, test: int) -> set[int]:
        """Expectations that test ``test`` reports every time it completes."""
        return {k for k, t in self.test_of.items() if t == test}


@functools.lru_cache(maxsize=4096)
def prepare(tests: tuple[str, ...]) -> PreparedTests:
    """Replace the expected literals of ``tests`` by placeholders (see module docstring).

    Cached: a run judges many programs on the same tests. Treat the result as read-only.
    """
    prepared = PreparedTests(child_tests=[])
    for index, test in enumerate(tests):
        prepared.child_tests.append(_prepare_one(test, index, prepared))
    return prepared


def _prepare_one(test: str, index: int, prepared: PreparedTests) -> str:
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return test
    differential = _differential(tree, test)
    if differential is not None:
        return _keep_back_reference(differential, tree, test, index, prepared)
    spans: list[tuple[ast.expr, int]] = []
    for node in _taken_out(tree):
        literal = _literal_side(node.test)
        if literal is None:
            continue
        k = len(prepared.expectations)
        source = ast.get_source_segment(test, literal) or ast.unparse(literal)
        statement = ast.get_source_segment(test, node) or ast.unparse(node)
        prepared.expectations[k] = Expectation(ast.literal_eval(literal), source, statement)
        prepared.test_of[k] = index
        spans.append((literal, k))
    return _replace_spans(test, spans)


def _differential(tree: ast.Module, test: str) -> Differential | None:
    """The differential test that ``tree`` is, if it starts as ``benchmarks.mbpp_plus``
    writes one."""
    body = tree.body
    if len(body) < 2 or not all(isinstance(node, ast.Assign) for node in body[:2]):
        return None
    names = [[getattr(t, "id", None) for t in node.targets] for node in body[:2]]
    if names != [[SPEC_NAME], [INPUTS_NAME]] or not isinstance(body[1].value, ast.List):
        return None
    try:
        spec = ast.literal_eval(body[0].value)
        reference, entry_point = spec["reference"], spec["entry_point"]
    except (ValueError, TypeError, SyntaxError, KeyError):
        return None
    if not (isinstance(reference, str) and isinstance(entry_point, str)):
        return None
    inputs_source = ast.get_source_segment(test, body[1]) or ""
    digest = hashlib.sha256(f"{reference}\0{entry_point}\0{inputs_source}".encode()).hexdigest()
    return Differential(digest, reference, entry_point, inputs_source, len(body[1].value.elts))


def _keep_back_reference(
    differential: Differential, tree: ast.Module, test: str, index: int, prepared: PreparedTests
) -> str:
    spec = ast.literal_eval(tree.body[0].value)
    tolerance = (spec.get("atol", 0), spec.get("oracle", "equal"))
    first = len(prepared.expectations)
    for i, node in enumerate(tree.body[1].value.elts):
        args = ast.get_source_segment(test, node) or ast.unparse(node)
        if args.startswith("[") and args.endswith("]"):
            args = args[1:-1]
        number = spec.get("start", 0) + i
        statement = f"{differential.entry_point}({args})  # MBPP+ input #{number}"
        prepared.expectations[first + i] = Expectation(
            ReferenceValue(differential.digest, i), "", statement, tolerance
        )
        prepared.test_of[first + i] = index
    prepared.differentials.append(differential)
    return differential.child_loop(first)


def _taken_out(tree: ast.Module) -> list[ast.Assert]:
    """Asserts that run every time the test completes: at its top level, and at the top
    level of a ``check`` function the test calls once at its top level with no ``return``."""
    asserts = [node for node in tree.body if isinstance(node, ast.Assert)]
    checks = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == _CHECK_FUNCTION
    ]
    calls = [
        node
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == _CHECK_FUNCTION
    ]
    if len(checks) == 1 and len(calls) == 1 and not _returns(checks[0]):
        asserts += [node for node in checks[0].body if isinstance(node, ast.Assert)]
    return asserts


def _returns(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Return | ast.Yield | ast.YieldFrom) for node in ast.walk(function)
    )


def _literal_side(test: ast.expr) -> ast.expr | None:
    """The literal side of ``<expr> == <literal>`` (or mirrored), else None."""
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return None
    left, right = test.left, test.comparators[0]
    if _is_literal(right):
        return right
    return left if _is_literal(left) else None


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _replace_spans(source: str, spans: list[tuple[ast.expr, int]]) -> str:
    """``source`` with each node's text replaced by its placeholder, keeping line breaks."""
    lines = source.splitlines(keepends=True)
    data = [line.encode("utf-8") for line in lines]
    # right to left, so earlier offsets stay valid
    for node, k in sorted(spans, key=lambda s: (s[0].lineno, s[0].col_offset), reverse=True):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        head = data[first][: node.col_offset]
        tail = data[last][node.end_col_offset :]
        name = PLACEHOLDER.format(k).encode()
        data[first : last + 1] = [head + name + tail] + [b"\n"] * (last - first)
    return b"".join(data).decode("utf-8")


def resolve(
    verdict: dict,
    prepared: PreparedTests,
    tests: Sequence[str],
    feedback_chars: int,
    reference_value: Callable[[ReferenceValue], Any],
) -> dict:
    """The final verdict: the child's, unless a reported value differs from its
    expectation, or a test completed without reporting one (then ``failed``).

    ``verdict["values"]`` lists ``[test, k, wire]`` in the order the child reported them;
    ``reference_value`` gives the reference outputs of differential tests.
    """
    reported: dict[int, list[tuple[int, str]]] = {}
    for test, k, wire in verdict.pop("values", []):
        reported.setdefault(test, []).append((k, wire))
    done = verdict["tests_passed"]
    for index, test in enumerate(tests):
        seen = set()
        for k, wire in reported.get(index, []):
            expectation = prepared.expectations.get(k)
            if expectation is None or prepared.test_of[k] != index:
                continue
            seen.add(k)
            actual = _decoded(wire)
            want = expectation.value
            if isinstance(want, ReferenceValue):
                want = reference_value(want)
            if not _accepted(actual, want, expectation.tolerance):
                text = assertion_feedback(expectation.statement, want, actual)
                if isinstance(actual, values.Unsupported):
                    text += UNSUPPORTED_NOTE.format(actual.type_name)
                return _failed(verdict, index, truncate_middle(text, feedback_chars))
        if index >= done:
            break
        if prepared.required(index) - seen:
            text = f"Failed test:\n{test.strip()}\n{UNREPORTED_NOTE}"
            return _failed(verdict, index, truncate_middle(text, feedback_chars))
    text = restore_literals(verdict["feedback"], prepared)
    return {**verdict, "feedback": truncate_middle(text, feedback_chars)}


def _decoded(wire: str) -> Any:
    try:
        return values.decode(wire)
    except ValueError:
        return values.Unsupported("?", "<malformed value>")


def _accepted(actual: Any, expected: Any, tolerance: tuple[float, str] | None) -> bool:
    """Python's ``==`` on plain values, or MBPP+'s comparison for differential tests. No
    output is accepted where the reference solution failed: under python3 its exception
    fails the test, whatever the oracle (``always`` included)."""
    if isinstance(expected, values.Unsupported):
        return False
    try:
        if tolerance is None:
            return bool(actual == expected)
        return bool(same(actual, expected, *tolerance))
    except (RecursionError, MemoryError, TypeError, ValueError, ArithmeticError):
        return False


def restore_literals(text: str, prepared: PreparedTests) -> str:
    """``text`` with every placeholder name put back as its literal's source."""
    if PLACEHOLDER_HEAD not in text:
        return text
    for k, expectation in prepared.expectations.items():
        text = text.replace(PLACEHOLDER.format(k), expectation.source)
    return text


def _failed(verdict: dict, index: int, text: str) -> dict:
    return {**verdict, "status": Status.FAILED.value, "feedback": text, "tests_passed": index}
