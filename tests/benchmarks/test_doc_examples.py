import pytest

from mucode.benchmarks.doc_examples import check_example, docstring_example


def _prompt(doc: str, name: str = "f") -> str:
    return f'def {name}(*args):\n    """{doc}\n    """\n'


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Doubles.\n    >>> f(2)\n    4", "assert f(2) == 4"),
        ("    >>> f([1,\n    ... 2])\n    [2, 4]", "assert f([1, 2]) == [2, 4]"),
        ("    >>> round(f(2), 1)  # a comment\n    4.0", "assert round(f(2), 1) == 4.0"),
        ("    f('a') ==> 'b'", "assert f('a') == 'b'"),
        ("    f(1, 2) => true", "assert f(1, 2) == True"),
        ("    f([1, 2]) ➞ False", "assert f([1, 2]) == False"),
        ("    f(3) -> [1, 2]", "assert f(3) == [1, 2]"),
        ("    * f(3) == (1, 2)", "assert f(3) == (1, 2)"),
        ("    f('1234') = '4321'", "assert f('1234') == '4321'"),
        ("    f('x') returns 'y'", "assert f('x') == 'y'"),
        ('    f(15)   # returns "db1111db"', "assert f(15) == 'db1111db'"),
        ("    f(1, 19) ->19 - 5 - 6 = 8", "assert f(1, 19) == 8"),
        ("    f([\n      [1, 2],\n    ], 1) == [(0, 0)]", "assert f([[1, 2]], 1) == [(0, 0)]"),
        ("    f(a) => False\n    f('aa') => False", "assert f('aa') == False"),  # a: no name
        ("    >>> f(1)\n\n    f(2) == 3", "assert f(2) == 3"),  # doctest without output
        ("    g(1) == 2\n    f(')') == 1", "assert f(')') == 1"),  # other functions skipped
        ("    elf(1) == 2\n    x.f(1) == 3\n    f(2) == 4", "assert f(2) == 4"),  # whole names
    ],
)
def test_docstring_forms(doc, expected):
    assert docstring_example(_prompt(doc), "f") == expected


@pytest.mark.parametrize(
    "doc",
    [
        "No examples at all.",
        "    For lst = [1, 2] the output should be 3",
        "    f(x) == y",  # free names
        "    f(1) = f(0) + 1",  # expected refers to the function
        "    f(2)",  # no separator
        '    f(2) == ""aaa"',  # broken literal
    ],
)
def test_docstrings_without_a_usable_example(doc):
    assert docstring_example(_prompt(doc), "f") is None


def test_only_the_entry_points_docstring_is_read():
    prompt = _prompt("    >>> enc(1)\n    2", "enc") + _prompt("Decodes.", "dec")
    assert docstring_example(prompt, "dec") is None
    assert docstring_example("def broken(:\n", "broken") is None


CHECK = """
METADATA = {}

def check(candidate):
    assert True, "always"
    import math
    assert math.fabs(candidate(1)) < 2
    xs = [1, 2]
    assert candidate(xs) == 3
    assert candidate([4]) == 4, "candidate failed"
    assert candidate(5) == 5
"""


def test_check_fallback_takes_the_first_self_contained_assert():
    assert check_example(CHECK, "solve") == "assert solve([4]) == 4, 'candidate failed'"
    assert check_example("def check(candidate):\n    pass\n", "solve") is None
    assert check_example("def check(:", "solve") is None
