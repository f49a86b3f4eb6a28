"""Keeping expected literals back, and judging the values the child reported."""

from __future__ import annotations

import ast
import dataclasses
import math
from collections import Counter, OrderedDict, defaultdict, namedtuple
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction

import numpy as np
import pytest

from mucode.benchmarks.mbpp_plus import INPUTS_NAME, SPEC_NAME
from mucode.sandbox import expected, values
from mucode.sandbox.expected import ReferenceValue

NO_REFERENCES = {}.__getitem__  # these tests have no differential tests
CHECK = (
    "METADATA = {}\n\ndef check(candidate):\n"
    "    assert candidate([1, 2]) == 3\n"
    "    assert candidate([]) == 0, 'empty'\n"
    "    assert abs(candidate([0.5]) - 0.5) < 1e-6\n"
    "    for x in range(3):\n"
    "        assert candidate([x]) == x\n"
    "\ncheck(total)\n"
)


def verdict(status: str = "passed", passed: int = 1, feedback: str = "All tests passed."):
    return {"status": status, "feedback": feedback, "duration_s": 0.0, "tests_passed": passed,
            "tests_total": passed}  # fmt: skip


def test_top_level_literal_asserts_are_kept_back_either_way_round():
    prepared = expected.prepare(("assert f(1) == [1, 2]", "assert (1, 'a') == f(2)"))
    assert prepared.child_tests == [
        "assert f(1) == __mucode_expected_0__",
        "assert __mucode_expected_1__ == f(2)",
    ]
    assert prepared.expectations[0].value == [1, 2]
    assert prepared.expectations[1].value == (1, "a")
    assert prepared.required(0) == {0} and prepared.required(1) == {1}


def test_check_function_asserts_are_kept_back_only_where_they_always_run():
    prepared = expected.prepare((CHECK,))
    child = prepared.child_tests[0]
    assert "3" not in child.split("def check")[1].split("\n")[1]
    assert [e.value for e in prepared.expectations.values()] == [3, 0]
    assert "assert abs(candidate([0.5]) - 0.5) < 1e-6" in child  # not an equality
    assert "assert candidate([x]) == x" in child  # in a loop, and not a literal
    assert child.count("\n") == CHECK.count("\n")  # line numbers of tracebacks still hold
    ast.parse(child)


@pytest.mark.parametrize(
    "test",
    [
        "assert f(1) == g(2)",  # no literal side
        "assert f(1) == 2 == 2",  # chained
        "assert f(1) != 2",
        "assert f(1) == {[1]: 2}",  # not a value (unhashable key): raises in the child
        "x = f(1)\nif x:\n    assert x == 2\n",  # not at the top level
        "def check(c):\n    if c(1):\n        return\n    assert c(2) == 3\ncheck(f)\n",
        "def check(c):\n    assert c(2) == 3\n",  # never called
        "check(f)\n",  # defined elsewhere (say, in the setup code)
        # defined twice: the first definition never runs
        "def check(c):\n    assert c(1) == 2\ndef check(c):\n    pass\ncheck(f)\n",
        "def check(c):\n    assert c(1) == 2\ncheck(f)\ncheck(g)\n",  # called twice
        "assert f(",  # does not parse: the child reports the SyntaxError
    ],
)
def test_other_shapes_run_in_the_child_as_written(test):
    prepared = expected.prepare((test,))
    assert prepared.child_tests == [test] and not prepared.expectations


def test_a_multi_line_literal_keeps_the_line_count():
    test = "assert f() == [\n    1,\n    2,\n]\nassert g() == 'x'"
    child = expected.prepare((test,)).child_tests[0]
    assert child == "assert f() == __mucode_expected_0__\n\n\n\nassert g() == __mucode_expected_1__"


def test_matching_values_keep_the_childs_verdict_and_restore_literals_in_feedback():
    prepared = expected.prepare(("assert f(1) == 2",))
    raw = verdict(
        "timeout", 0, "Timeout while running this test:\nassert f(1) == __mucode_expected_0__"
    )
    raw["values"] = []
    result = expected.resolve(raw, prepared, ("assert f(1) == 2",), 2000, NO_REFERENCES)
    assert result["status"] == "timeout"
    assert result["feedback"].endswith("assert f(1) == 2")


def test_a_wrong_value_fails_at_its_test_whatever_happened_after():
    tests = ("assert f(1) == 2", "assert f(2) == 3")
    prepared = expected.prepare(tests)
    raw = verdict("timeout", 1)
    raw["values"] = [[0, 0, values.encode(2)], [1, 1, values.encode(4)]]
    result = expected.resolve(raw, prepared, tests, 2000, NO_REFERENCES)
    assert (result["status"], result["tests_passed"]) == ("failed", 1)
    assert result["feedback"] == "Failed test:\nassert f(2) == 3\nExpected: 3\nActual:   4"


@pytest.mark.parametrize(
    "reported",
    [
        pytest.param([], id="nothing"),
        pytest.param([[0, 7, '["i", "0x2"]']], id="another-key"),
        pytest.param([[0, 0, "[[[[[[["]], id="malformed"),
        pytest.param([[0, 0, '["d", [[["l", []], ["n"]]]]']], id="unhashable-key"),
        pytest.param([[0, 0, '["?", "x.Y", "2"]']], id="unsupported"),
    ],
)
def test_a_completed_test_without_its_right_value_fails(reported):
    prepared = expected.prepare(("assert f(1) == 2",))
    raw = verdict()
    raw["values"] = reported
    result = expected.resolve(raw, prepared, ("assert f(1) == 2",), 2000, NO_REFERENCES)
    assert result["status"] == "failed"


def judged(tests, reported, passed=None, status="passed", references=NO_REFERENCES):
    """``resolve`` on a run of ``tests`` whose child reported ``(test, key, value)``s."""
    tests = tuple(tests)
    raw = verdict(status, len(tests) if passed is None else passed)
    raw["values"] = [[test, key, values.encode(value)] for test, key, value in reported]
    return expected.resolve(raw, expected.prepare(tests), tests, 2000, references)


def test_feedback_quotes_the_test_as_it_was_written():
    test = "assert f(1)==0x10"
    failed = judged((test,), [(0, 0, 4)])
    assert failed["feedback"] == "Failed test:\nassert f(1)==0x10\nExpected: 16\nActual:   4"
    raw = verdict(
        "timeout", 0, "Timeout while running this test:\nassert f(1)==__mucode_expected_0__"
    )
    raw["values"] = []
    result = expected.resolve(raw, expected.prepare((test,)), (test,), 2000, NO_REFERENCES)
    assert result["feedback"].endswith("\nassert f(1)==0x10")


@pytest.mark.parametrize(("literal", "value"), [("3", 2), ("'b'", "a"), ("[1, 2]", [1])])
def test_a_value_that_only_sorts_before_the_expected_one_fails(literal, value):
    assert judged((f"assert f() == {literal}",), [(0, 0, value)])["status"] == "failed"


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("[1, 2]", [1, 2]),
        ("{'a': (1,)}", {"a": (1,)}),
        ("1000000000000000000000000000000", 10**30),
        ("'two words'", "two words"),
        ("2.5", 2.5),
        ("1+2j", 1 + 2j),
    ],
)
def test_a_right_value_passes_whatever_its_type(literal, value):
    assert judged((f"assert f() == {literal}",), [(0, 0, value)])["status"] == "passed"


def test_a_stray_value_before_the_tests_own_does_not_hide_it():
    assert judged(("assert f(1) == 2",), [(0, 7, 9), (0, 0, 2)])["status"] == "passed"


def test_a_value_reported_under_another_tests_key_is_not_judged_there():
    """The program can write report lines itself; a key belongs to one test."""
    tests = ("assert f(1) == 2", "assert f(2) == 3")
    reported = [(0, 1, 9), (0, 0, 2), (1, 0, 9), (1, 1, 3)]  # key 1 under test 0, key 0 under 1
    assert judged(tests, reported)["status"] == "passed"


def test_values_for_a_test_the_run_never_reached_are_not_judged():
    tests = ("assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4")
    result = judged(tests, [(0, 0, 2), (2, 2, 9)], passed=1, status="timeout")
    assert (result["status"], result["tests_passed"]) == ("timeout", 1)


def test_every_test_counts_past_the_cached_small_ints():
    """From 257 on, test indices are new int objects each time; 300 tests."""
    tests = [f"assert f({i}) == {i}" for i in range(300)]
    right = [(i, i, i) for i in range(300)]
    assert judged(tests, right)["status"] == "passed"
    unreported = judged(tests, right[:-1])  # the last test completed without its value
    assert (unreported["status"], unreported["tests_passed"]) == ("failed", 299)
    timed_out = judged(tests, right[:280], passed=280, status="timeout")
    assert (timed_out["status"], timed_out["tests_passed"]) == ("timeout", 280)


PLUS_TEST = (  # no atol: outputs compare as MBPP+ compares them when its atol is 0
    f"{SPEC_NAME} = {{'entry_point': 'f', 'reference': 'def f(x): pass'}}\n"
    f"{INPUTS_NAME} = [[1], [2], [3]]\n"
)


def test_a_differential_test_fails_at_the_first_input_whose_output_differs():
    (differential,) = expected.prepare((PLUS_TEST,)).differentials
    outputs = {ReferenceValue(differential.digest, i): v for i, v in enumerate([0.1, 3, 5])}
    close = judged((PLUS_TEST,), [(0, 0, 0.1 + 1e-9), (0, 1, 3), (0, 2, 5)], references=outputs.get)
    assert close["status"] == "passed"  # floats within 1e-6
    wrong = judged((PLUS_TEST,), [(0, 0, 0.1), (0, 1, 4), (0, 2, 6)], references=outputs.get)
    assert (wrong["status"], wrong["tests_passed"]) == ("failed", 0)
    assert wrong["feedback"] == "Failed test:\nf(2)  # MBPP+ input #1\nExpected: 3\nActual:   4"


@pytest.mark.parametrize("oracle", ["equal", "always", "not_none", "zero_ok"])
def test_an_input_the_reference_failed_on_fails_whatever_the_oracle(oracle):
    """Under python3 the reference's exception fails the differential test, so no output
    passes there, not even under the oracles that accept any output, or any but None or 0."""
    test = (f"{SPEC_NAME} = {{'entry_point': 'f', 'reference': 'def f(x): pass', "
            f"'oracle': {oracle!r}}}\n{INPUTS_NAME} = [[1], [2]]\n")  # fmt: skip
    (differential,) = expected.prepare((test,)).differentials
    failed = values.Unsupported("reference", "<the reference solution failed on this input>")
    outputs = {
        ReferenceValue(differential.digest, 0): 0,
        ReferenceValue(differential.digest, 1): failed,
    }
    result = judged((test,), [(0, 0, 0), (0, 1, 0)], references=outputs.get)
    assert (result["status"], result["tests_passed"]) == ("failed", 0)


def test_a_value_whose_comparison_raises_fails_as_under_python3():
    """``Decimal('sNaN') == 1`` raises InvalidOperation; MBPP+'s comparison with atol set
    raises ValueError on it (``math.isnan``)."""
    assert judged(("assert f() == 1",), [(0, 0, Decimal("sNaN"))])["status"] == "failed"
    test = (
        f"{SPEC_NAME} = {{'entry_point': 'f', 'reference': 'def f(): pass', 'atol': 0.5}}\n"
        f"{INPUTS_NAME} = [[]]\n"
    )
    (differential,) = expected.prepare((test,)).differentials
    reference = {ReferenceValue(differential.digest, 0): None}.__getitem__
    result = judged((test,), [(0, 0, Decimal("sNaN"))], references=reference)
    assert result["status"] == "failed"
    assert result["feedback"] == (
        "Failed test:\nf()  # MBPP+ input #0\nExpected: None\nActual:   Decimal('sNaN')"
    )


class Colour(IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, -(10**4000), 2.5, math.inf, -0.0, 1 + 2j, "ünï\n", b"\x00\xff", [], (1,),
        {1: [2, (3,)], "a": {"b": None}}, {1, 2}, frozenset({"x"}), Fraction(1, 3),
        Decimal("0.1"), [[[[1]]]],
    ],
)  # fmt: skip
def test_plain_values_round_trip(value):
    decoded = values.decode(values.encode(value))
    assert decoded == value and type(decoded) is type(value)


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (defaultdict(int, a=1), {"a": 1}),
        (Counter("aab"), {"a": 2, "b": 1}),
        (OrderedDict(b=1), {"b": 1}),
        (namedtuple("P", "x y")(1, 2), (1, 2)),
        (Colour.RED, 1),
        (np.int64(3), 3),
        (np.float64(0.5), 0.5),
        (np.bool_(True), True),
    ],
)
def test_well_known_types_travel_as_the_plain_value_they_equal(value, plain):
    decoded = values.decode(values.encode(value))
    assert decoded == plain and type(decoded) is type(plain)


class Hostile:
    def __eq__(self, other):
        return True

    def __repr__(self):
        raise RuntimeError("no repr for you")


class Listy(list):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [Hostile(), Listy([1]), np.array([1, 2]), [Hostile()]])
def test_other_types_equal_nothing(value):
    decoded = values.decode(values.encode(value))
    assert decoded != [1] and decoded != 1 and decoded != values.decode(values.encode(value))


def test_nesting_beyond_the_limit_is_unsupported():
    value: list = []
    for _ in range(values.MAX_DEPTH + 5):
        value = [value]
    assert values.decode(values.encode(value)) != value


def _nested(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_up_to_the_limit_travels_and_one_level_more_does_not():
    assert values.MAX_DEPTH == 100
    assert values.decode(values.encode(_nested(100))) == _nested(100)
    assert values.decode(values.encode(_nested(101))) != _nested(101)  # the innermost is not


class Wordy:
    def __init__(self, chars):
        self.chars = chars

    def __repr__(self):
        return "x" * self.chars


def test_an_unsupported_value_keeps_at_most_300_characters_of_its_repr():
    assert repr(values.decode(values.encode(Wordy(300)))) == "x" * 300
    assert repr(values.decode(values.encode(Wordy(301)))) == "x" * 297 + "..."


class Sly:
    @property
    def __class__(self):
        raise RuntimeError("no class for you")


def test_a_value_that_raises_while_being_read_travels_as_unreadable():
    decoded = values.decode(values.encode(Sly()))
    assert isinstance(decoded, values.Unsupported) and repr(decoded) == "<unreadable>"


class PassesForAnyType(type):
    def __eq__(cls, other):
        return True

    def __hash__(cls):
        return hash(list)


class Forged(metaclass=PassesForAnyType):
    numerator, denominator = 1, 2

    def __iter__(self):
        return iter([1, 2])


def test_a_class_whose_metaclass_equals_everything_is_not_taken_for_a_plain_type():
    # plain Python: Forged() != [1, 2]; it must not travel as the list it iterates as
    assert Forged() != [1, 2]
    decoded = values.decode(values.encode(Forged()))
    assert isinstance(decoded, values.Unsupported) and decoded != [1, 2]


class NoModule(type):
    @property
    def __module__(cls):
        raise RuntimeError("no module for you")


class Nameless(metaclass=NoModule):
    pass


def test_a_type_that_will_not_name_itself_travels_as_an_unknown_type():
    decoded = values.decode(values.encode(Nameless()))
    assert isinstance(decoded, values.Unsupported) and decoded.type_name == "<unknown type>"


def test_unsupported_values_are_frozen():
    decoded = values.decode(values.encode(Hostile()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.text = "x"


def test_dict_keys_and_values_count_towards_the_nesting_limit():
    def dicts(levels):
        value: dict = {}
        for _ in range(levels):
            value = {"k": value}
        return value

    def tuple_key(levels):  # the dict is level 0, its key's innermost tuple is ``levels``
        key: tuple = ()
        for _ in range(levels - 1):
            key = (key,)
        return {key: 0}

    # a dict inside a list: its keys sit at an even depth (depth | 1 would not move them)
    for make in (dicts, tuple_key, lambda levels: [tuple_key(levels - 1)]):
        assert values.decode(values.encode(make(100))) == make(100)
        assert values.decode(values.encode(make(101))) != make(101)


def test_short_reprs_and_unrepresentable_values_keep_their_text():
    assert repr(values.decode(values.encode(Wordy(5)))) == "xxxxx"
    assert repr(values.decode(values.encode(Hostile()))) == "<unrepresentable>"


@pytest.mark.parametrize("wire", ['["s", 5]', '["i", 5]', '["y", 5]'])
def test_a_payload_of_the_wrong_type_is_malformed(wire):
    with pytest.raises(ValueError, match="malformed"):
        values.decode(wire)


def test_false_travels_as_false():
    assert values.decode(values.encode(False)) is False


class EqualsAnything:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class ListWithOddEq(list):
    __eq__ = EqualsAnything()  # python3 cannot even call it: == raises TypeError


def test_an_eq_attribute_that_equals_everything_is_not_a_safe_override():
    decoded = values.decode(values.encode(ListWithOddEq([1])))
    assert isinstance(decoded, values.Unsupported)
