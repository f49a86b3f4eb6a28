"""MBPP+ development snapshot rows -> ``Problem`` records.

Public test: the first assert of the task's ``assertion``; its other statements (imports)
become ``setup_code``. Private tests: the other asserts, then differential tests. Each
differential test is self-contained Python, so plain ``python3`` runs it too: it execs the
canonical solution in a namespace of its own (its helpers cannot clobber the candidate's),
then compares ``entry_point(*args)`` with the reference on up to ``CHUNK`` inputs
(base_input then plus_input) by ``plus_oracle.same``, the way EvalPlus compares. Its first
two statements (``SPEC_NAME``, ``INPUTS_NAME``) let the sandbox run it without the
reference in the program's process (see ``sandbox.expected``). Nothing runs at load time.
Not reproduced: EvalPlus's per-input time limit scaled from the reference's run time (the
sandbox limit applies), and the input ``contract`` (it validates inputs for the reference,
not candidates).
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from mucode.benchmarks import plus_oracle
from mucode.benchmarks.plus_inputs import py_literal, restore_args
from mucode.benchmarks.registry import MBPP_PLUS_SNAPSHOT
from mucode.benchmarks.rows import RawRow, field, prefixed_id_field
from mucode.benchmarks.task_ids import task_number
from mucode.benchmarks.test_imports import with_missing_imports
from mucode.core.errors import DatasetError
from mucode.core.records import Problem

FIELDS = "task_id, prompt, entry_point, canonical_solution, base_input, plus_input, atol, assertion"
CHUNK = 50  # inputs per differential test: small feedback, few sandbox runs

# EvalPlus's special oracles, by entry point (Mbpp/164, Mbpp/295, and three regex tasks).
_ORACLES = {
    "are_equivalent": "always",  # any output is accepted as long as the call returns
    "sum_div": "zero_ok",  # 0 is accepted beside the reference output
    "check_str": "not_none",  # only "returns None or not" is compared
    "text_match_three": "not_none",
    "text_starta_endb": "not_none",
}

# Original MBPP asserts that contradict the snapshot's own canonical solution, which the
# differential tests use as the oracle (found by running both in development). EvalPlus never
# runs ``assertion``, so it did not notice. None drops the assert; a string replaces it with
# the canonical solution's value. An assert not found verbatim is left alone.
_ASSERT_FIXES: dict[str, dict[str, str | None]] = {
    "Mbpp/164": {"assert are_equivalent(23, 47) == True": None},  # 24 != 48 divisor sums
    "Mbpp/295": {  # MBPP sums proper divisors; the canonical solution sums all of them
        "assert sum_div(8)==7": "assert sum_div(8) == 15",
        "assert sum_div(12)==16": "assert sum_div(12) == 28",
        "assert sum_div(7)==1": "assert sum_div(7) == 8",
    },
}

SPEC_NAME, INPUTS_NAME = "_MUCODE_PLUS", "_MUCODE_PLUS_INPUTS"  # the sandbox looks for these

_CHECK = """\
{spec_name} = {spec!r}
{inputs_name} = [
{inputs}
]


def _mucode_plus_check(spec, inputs):
    import copy
    import math

{oracle}
    namespace = {{}}
    exec(compile(spec["reference"], "<MBPP+ canonical solution>", "exec"), namespace)
    reference = namespace[spec["entry_point"]]
    for number, args in enumerate(inputs, start=spec["start"]):
        want = reference(*copy.deepcopy(args))
        got = {entry_point}(*copy.deepcopy(args))
        if not same(got, want, spec["atol"], spec["oracle"]):
            shown = ", ".join(repr(a) for a in args)
            raise AssertionError(
                f"{entry_point}({{shown:.300}}) returned {{got!r:.300}}, "
                f"expected {{want!r:.300}} (MBPP+ input #{{number}})"
            )


_mucode_plus_check({spec_name}, {inputs_name})
del _mucode_plus_check, {spec_name}, {inputs_name}
"""


def _oracle_source() -> str:
    """``plus_oracle``'s functions, indented to sit inside the check function."""
    source = inspect.getsource(plus_oracle)
    functions = source[source.index("\ndef ") + 1 :]
    return textwrap.indent(functions, "    ")


def build_mbpp_plus(rows: list[RawRow]) -> list[Problem]:
    """Problems of the MBPP+ 2023-11 development snapshot (all in split ``test``)."""
    return [_build_one(row) for row in rows]


def _build_one(row: RawRow) -> Problem:
    task_id = prefixed_id_field(row, "Mbpp", FIELDS)
    entry_point = field(row, "entry_point", str, FIELDS)
    if not entry_point.isidentifier():
        raise DatasetError(f"{row.where}: entry_point {entry_point!r} is not a Python name")
    solution = field(row, "canonical_solution", str, FIELDS)
    setup, asserts = _split_assertion(row)
    fixes = _ASSERT_FIXES.get(task_id, {})
    asserts = tuple(fixed for a in asserts if (fixed := fixes.get(a, a)) is not None)
    inputs = _restored_inputs(row, task_number(task_id))
    atol = field(row, "atol", (int, float), FIELDS)
    checks = _differential_tests(solution, entry_point, atol, inputs)
    return Problem(
        task_id=task_id,
        benchmark=MBPP_PLUS_SNAPSHOT,
        split="test",
        prompt=_prompt_text(field(row, "prompt", str, FIELDS)),
        entry_point=entry_point,
        setup_code=setup,
        public_tests=asserts[:1],
        private_tests=asserts[1:] + checks,
        reference_solution=solution,
    )


def _differential_tests(
    solution: str, entry_point: str, atol: float, inputs: list[list[object]]
) -> tuple[str, ...]:
    """One self-contained test per ``CHUNK`` inputs (see the module docstring)."""
    oracle = _ORACLES.get(entry_point, "equal")
    tests = []
    for start in range(0, len(inputs), CHUNK):
        spec = {"entry_point": entry_point, "reference": solution, "atol": atol,
                "oracle": oracle, "start": start}  # fmt: skip
        lines = [f"    {py_literal(args)}," for args in inputs[start : start + CHUNK]]
        tests.append(
            _CHECK.format(
                spec_name=SPEC_NAME,
                spec=spec,
                inputs_name=INPUTS_NAME,
                inputs="\n".join(lines),
                oracle=_oracle_source(),
                entry_point=entry_point,
            )
        )
    return tuple(tests)


def _split_assertion(row: RawRow) -> tuple[str, tuple[str, ...]]:
    """``assertion`` -> (its non-assert statements joined, its asserts one by one)."""
    source = field(row, "assertion", str, FIELDS)
    try:
        body = ast.parse(source).body
    except SyntaxError as e:
        raise DatasetError(f"{row.where}: field 'assertion' does not parse ({e.msg})") from e
    setup: list[str] = []
    asserts: list[str] = []
    for node, text in zip(body, _segments(source, body), strict=True):
        (asserts if isinstance(node, ast.Assert) else setup).append(text)
    if not asserts:
        raise DatasetError(f"{row.where}: field 'assertion' holds no assert; expected at least one")
    return with_missing_imports("\n".join(setup), asserts), tuple(asserts)


def _segments(source: str, nodes: list[ast.stmt]) -> list[str]:
    """The source text of each statement (``ast.get_source_segment`` re-splits per call)."""
    data = source.encode("utf-8")  # ast offsets count UTF-8 bytes
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return [
        data[
            starts[n.lineno - 1] + n.col_offset : starts[(n.end_lineno or n.lineno) - 1]
            + (n.end_col_offset or 0)
        ].decode("utf-8")
        for n in nodes
    ]


def _restored_inputs(row: RawRow, number: int) -> list[list[object]]:
    """base_input then plus_input, each argument list with its Python types restored."""
    restored = []
    for name in ("base_input", "plus_input"):
        value = field(row, name, (list, dict), FIELDS)
        if isinstance(value, dict):  # Mbpp/793 stores "no plus inputs" as {}
            if value:
                raise DatasetError(f"{row.where}: field {name!r} should be a list, got a dict")
            value = []
        for i, args in enumerate(value):
            if not isinstance(args, list):
                raise DatasetError(
                    f"{row.where}: {name}[{i}] should be a list of arguments, got "
                    f"{type(args).__name__}"
                )
            try:
                restored.append(restore_args(number, args))
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
                raise DatasetError(
                    f"{row.where}: {name}[{i}] does not have the argument shape task "
                    f"Mbpp/{number} expects ({type(e).__name__}: {e})"
                ) from e
    return restored


def _prompt_text(prompt: str) -> str:
    """The task statement: EvalPlus wraps MBPP's text in a module docstring."""
    try:
        body = ast.parse(prompt).body
    except SyntaxError:
        return prompt.strip()
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        value = body[0].value.value
        if isinstance(value, str):
            return value.strip()
    return prompt.strip()
