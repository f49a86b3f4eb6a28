import math

import pytest

from mucode.benchmarks.plus_inputs import py_literal, restore_args


@pytest.mark.parametrize(
    ("number", "args", "restored"),
    [
        (2, [[3, 4], [5]], [(3, 4), (5,)]),  # every argument a tuple
        (63, [[[1, 2], [3, 4]]], [[(1, 2), (3, 4)]]),  # a list of tuples
        (75, [[[1, 2]], 3], [[(1, 2)], 3]),  # first argument a list of tuples
        (106, [[1], [2, 3]], [[1], (2, 3)]),  # second argument a tuple
        (250, [[1, 2], 1], [(1, 2), 1]),  # first argument a tuple
        (259, [[[1, 2]], [[3]]], [((1, 2),), ((3,),)]),  # tuples of tuples
        (580, [[1, [2, [3]]]], [(1, (2, (3,)))]),  # tuples all the way down
        (115, [[[1, 2], [], {"a": 1}]], [[{1, 2}, {}, {}]]),  # EvalPlus's quirk kept
        (124, ["2", "1j"], [2.0, 1j]),
        (252, ["(1+2j)"], [1 + 2j]),
        (278, [[1, [2, 3], 4]], [(1, (2, 3), 4)]),
        (722, [{"a": [1, 2]}, 3, 4], [{"a": (1, 2)}, 3, 4]),
        (11, [[1, 2], "x"], [[1, 2], "x"]),  # most tasks: unchanged
    ],
)
def test_restore_args(number, args, restored):
    assert restore_args(number, args) == restored
    assert [type(a) for a in restore_args(number, args)] == [type(a) for a in restored]


@pytest.mark.parametrize(
    "value",
    [
        [1, "two", 3.5, None, True],
        ((1,), (), (1, 2)),
        {"a": [1, {2: (3,)}]},
        {1, 2},
        set(),
        frozenset({"x"}),
        [1 + 2j, -0.0, 1e300],
        "contains inf and nan",
    ],
)
def test_py_literal_round_trips(value):
    text = py_literal(value)
    assert eval(text, {"__builtins__": {"float": float, "complex": complex, "set": set,
                                        "frozenset": frozenset}}) == value  # fmt: skip


def test_py_literal_non_finite_floats():
    value = [math.inf, (-math.inf, 2.5), {"k": complex(math.inf, 1)}]
    text = py_literal(value)
    assert "float('inf')" in text and "float('-inf')" in text
    back = eval(text, {"__builtins__": {"float": float, "complex": complex}})
    assert back == value
    nan = eval(py_literal([math.nan]), {"__builtins__": {"float": float}})[0]
    assert math.isnan(nan)


def test_tests_are_identical_across_hash_seeds(shared_data_dir):
    """Set literals must not follow the process's string-hash order."""
    import subprocess
    import sys

    code = (
        "import sys; from mucode.benchmarks import load_problems; "
        "from mucode.calibration import problems_digest; "
        "print(problems_digest(load_problems('mbpp-plus-snapshot', data_dir=sys.argv[1])))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, str(shared_data_dir)],
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
