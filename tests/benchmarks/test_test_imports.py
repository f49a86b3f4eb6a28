from mucode.benchmarks.test_imports import with_missing_imports


def test_adds_the_stdlib_module_a_test_uses_without_importing():
    tests = ["assert math.isclose(f(1), 2.0)", "assert f(2) == sys.maxsize"]
    assert with_missing_imports("", tests) == "import math\nimport sys"


def test_keeps_setup_and_respects_existing_imports():
    assert with_missing_imports("import math", ["assert math.isclose(f(1), 2)"]) == "import math"
    assert with_missing_imports("x = 1", ["assert re.match('a', f())"]) == "import re\nx = 1"
    assert with_missing_imports("import os, sys", ["assert sys.getsizeof(f())"]) == "import os, sys"


def test_ignores_non_modules_and_method_calls():
    tests = ["assert f('a b').split() == ['a', 'b']", "assert root.left.val == 1", "assert 1.5"]
    assert with_missing_imports("", tests) == ""
