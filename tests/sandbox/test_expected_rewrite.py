"""How a test reaches the child: which asserts the pool keeps back, and differential tests."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mucode.benchmarks import load_problems
from mucode.benchmarks.mbpp_plus import INPUTS_NAME, SPEC_NAME
from mucode.sandbox import expected
from mucode.sandbox.expected import Expectation, ReferenceValue

REFERENCE = "def double(x):\n    return 2 * x\n"
SPEC = {"entry_point": "pair", "reference": "def pair(a, b=0):\n    return a, b\n"}
# the least benchmarks.mbpp_plus's shape needs: no atol, oracle or start; inputs as written
PLUS_TEST = f"{SPEC_NAME} = {SPEC!r}\n{INPUTS_NAME} = [[1,2], ['a'], 2 * [1], [1] * 2]\n"


@pytest.fixture
def plus_problem(tmp_path):
    """An MBPP+ problem as the benchmark loader writes it: one assert, 53 inputs in two
    differential tests (inputs #0-#49, then #50-#52)."""
    row = {
        "task_id": "Mbpp/7", "prompt": "'''\nDouble it.\n'''\n", "entry_point": "double",
        "canonical_solution": REFERENCE, "base_input": [[1], [2]],
        "plus_input": [[i] for i in range(3, 54)], "atol": 0, "contract": "",
        "assertion": "\nassert double(1) == 2\n",
    }  # fmt: skip
    (tmp_path / "evalplus-dev").mkdir()
    (tmp_path / "evalplus-dev" / "MbppPlus.git-767efcc.jsonl").write_text(json.dumps(row) + "\n")
    (problem,) = load_problems("mbpp-plus-snapshot", data_dir=tmp_path)
    return problem


def test_an_assert_without_a_literal_does_not_stop_later_ones_being_kept_back():
    test = "assert f(1) == g(1)\nassert f(2) == 3\n"
    prepared = expected.prepare((test,))
    assert prepared.child_tests == ["assert f(1) == g(1)\nassert f(2) == __mucode_expected_0__\n"]
    assert prepared.expectations[0].value == 3


def test_two_asserts_on_one_line_are_both_kept_back():
    prepared = expected.prepare(("assert f() == 10; assert g() == 'xy'",))
    assert prepared.child_tests == [
        "assert f() == __mucode_expected_0__; assert g() == __mucode_expected_1__"
    ]
    assert [e.value for e in prepared.expectations.values()] == [10, "xy"]


def test_a_multi_line_literal_below_the_first_line_keeps_every_line_number():
    test = "x = 1\n\nassert f() == [\n    1,\n    2,\n]\nassert g() == 3\n"
    child = expected.prepare((test,)).child_tests[0]
    assert child == (
        "x = 1\n\nassert f() == __mucode_expected_0__\n\n\n\nassert g() == __mucode_expected_1__\n"
    )


def test_the_expected_literal_and_its_assert_are_kept_as_written():
    (expectation,) = expected.prepare(("assert f(1)==0x10",)).expectations.values()
    assert (expectation.value, expectation.source) == (16, "0x10")
    assert expectation.statement == "assert f(1)==0x10"


def test_check_asserts_are_kept_back_beside_other_functions_and_calls():
    """Helpers named before and after ``check``, and other top-level calls, do not matter."""
    test = (
        "def aux(x):\n    return x\n\ndef helper(x):\n    return x\n\n"
        "def check(candidate):\n    assert candidate(1) == 2\n\n"
        "aux(0)\nprint('checking')\ncheck(f)\n"
    )
    prepared = expected.prepare((test,))
    assert [e.value for e in prepared.expectations.values()] == [2]
    assert "    assert candidate(1) == __mucode_expected_0__\n" in prepared.child_tests[0]


def test_a_differential_test_reaches_the_child_as_a_loop_reporting_each_output(plus_problem):
    prepared = expected.prepare(plus_problem.all_tests)
    first, second = prepared.differentials
    assert (first.reference, first.entry_point, first.count) == (REFERENCE, "double", 50)
    assert (second.reference, second.entry_point, second.count) == (REFERENCE, "double", 3)
    assert first.inputs_source == (
        f"{INPUTS_NAME} = [\n" + "".join(f"    [{i}],\n" for i in range(1, 51)) + "]"
    )
    assert first.digest != second.digest
    # the assert keeps key 0; each input of each differential test gets the next key
    assert prepared.child_tests == [
        "assert double(1) == __mucode_expected_0__",
        first.child_loop(1),
        second.child_loop(51),
    ]
    assert prepared.test_of == {0: 0} | dict.fromkeys(range(1, 51), 1) | {51: 2, 52: 2, 53: 2}
    assert prepared.required(2) == {51, 52, 53}
    assert [prepared.expectations[k] for k in (1, 51, 52, 53)] == [
        Expectation(
            ReferenceValue(first.digest, 0), "", "double(1)  # MBPP+ input #0", (0, "equal")
        ),
        *(
            Expectation(
                ReferenceValue(second.digest, i),
                "",
                f"double({51 + i})  # MBPP+ input #{50 + i}",  # numbered across the chunks
                (0, "equal"),
            )
            for i in range(3)
        ),
    ]
    reported = []
    namespace = {"double": lambda x: 10 * x, "__mucode_value__": lambda *kv: reported.append(kv)}
    exec(prepared.child_tests[2], namespace)
    assert reported == [(51, 510), (52, 520), (53, 530)]


def test_the_two_statements_benchmarks_mbpp_plus_starts_with_make_a_differential_test():
    """Without atol, oracle or start: exact comparison, inputs numbered from 0; each input's
    call is shown as its arguments were written."""
    prepared = expected.prepare((PLUS_TEST,))
    (differential,) = prepared.differentials
    assert differential.inputs_source == f"{INPUTS_NAME} = [[1,2], ['a'], 2 * [1], [1] * 2]"
    assert differential.count == 4
    assert [(e.statement, e.tolerance) for e in prepared.expectations.values()] == [
        ("pair(1,2)  # MBPP+ input #0", (0, "equal")),
        ("pair('a')  # MBPP+ input #1", (0, "equal")),
        ("pair(2 * [1])  # MBPP+ input #2", (0, "equal")),  # not a list display: kept whole
        ("pair([1] * 2)  # MBPP+ input #3", (0, "equal")),
    ]


GOOD_SPEC = repr(SPEC)


@pytest.mark.parametrize(
    "test",
    [
        pytest.param(f"spec = {GOOD_SPEC}\ninputs = [[1]]\n", id="names-sorting-after"),
        pytest.param(f"SPEC = {GOOD_SPEC}\nINPUTS = [[1]]\n", id="names-sorting-before"),
        pytest.param(f"{INPUTS_NAME} = [[1]]\n{SPEC_NAME} = {GOOD_SPEC}\n", id="swapped"),
        pytest.param(f"{SPEC_NAME} = {GOOD_SPEC}\n{INPUTS_NAME} = ([1],)\n", id="inputs-tuple"),
        pytest.param(
            f"{SPEC_NAME} = dict(reference='def f(x): pass', entry_point='f')\n"
            f"{INPUTS_NAME} = [[1]]\n",
            id="spec-not-a-literal",
        ),
        pytest.param(
            f"{SPEC_NAME} = ['def f(x): pass', 'f']\n{INPUTS_NAME} = [[1]]\n", id="spec-a-list"
        ),
        pytest.param(
            f"{SPEC_NAME} = {{'reference': 'def f(x): pass'}}\n{INPUTS_NAME} = [[1]]\n",
            id="no-entry-point",
        ),
        pytest.param(
            f"{SPEC_NAME} = {{'reference': 'def f(x): pass', 'entry_point': 1}}\n"
            f"{INPUTS_NAME} = [[1]]\n",
            id="entry-point-not-a-string",
        ),
        pytest.param(
            f"{SPEC_NAME} = {{'reference': 1, 'entry_point': 'f'}}\n{INPUTS_NAME} = [[1]]\n",
            id="reference-not-a-string",
        ),
    ],
)
def test_other_assignments_are_not_taken_for_a_differential_test(test):
    prepared = expected.prepare((test,))
    assert prepared.child_tests == [test] and not prepared.differentials
    assert not prepared.expectations


def test_a_preparation_is_shared_and_its_records_are_frozen():
    """``prepare`` is cached (a run judges many programs on the same tests), so nothing it
    returns to one run may be changed for the next."""
    tests = ("assert f(1) == [2]", PLUS_TEST)
    prepared = expected.prepare(tests)
    assert expected.prepare(tuple(list(tests))) is prepared
    records = [prepared.expectations[0], prepared.expectations[1].value, prepared.differentials[0]]
    for record in records:
        field = dataclasses.fields(record)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)


def test_the_cache_keeps_the_4096_most_recently_used_test_sets():
    """A bound on memory: each set holds its tests' expected values."""
    expected.prepare.cache_clear()
    first = expected.prepare(("assert f() == 0",))
    second = expected.prepare(("assert f() == 1",))
    for i in range(2, 4096):
        expected.prepare((f"assert f() == {i}",))
    assert expected.prepare(("assert f() == 0",)) is first  # all 4096 still held
    expected.prepare(("assert f() == 4096",))  # the least recently used one goes
    assert expected.prepare(("assert f() == 1",)) is not second
    expected.prepare.cache_clear()
