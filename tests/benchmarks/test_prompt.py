import pytest

from mucode.benchmarks import BENCHMARKS, format_prompt, get_problem, load_problems


def _problems(name, data_dir):
    return [p for split in BENCHMARKS[name].splits for p in load_problems(name, split, data_dir)]


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_prompt_shows_statement_public_tests_and_format_never_private(name, shared_data_dir):
    for p in _problems(name, shared_data_dir):
        text = format_prompt(p)
        assert text.startswith("Write a Python function implementation for the following prompt:")
        assert p.prompt.strip().replace("\r\n", "\n") in text
        for test in p.public_tests:
            assert test.replace("\r\n", "\n") in text
        assert "```python\n" in text and text.rstrip().endswith("```")
        lines = set(text.splitlines())
        for test in p.private_tests:
            if test not in p.public_tests:
                assert test not in text and test.strip() not in lines, (p.task_id, test)


def test_mbpp_prompt_layout(shared_data_dir):
    text = format_prompt(get_problem("mbpp", 11, shared_data_dir))
    assert text == (
        "Write a Python function implementation for the following prompt:\n\n"
        "Write a python function to remove first and last occurrence of a given character "
        "from the string.\n\n"
        "Your code should satisfy these tests:\n\n"
        'assert remove_Occ("hello","l") == "heo"\n\n'
        "Return only the implementation code, no tests or explanations. Be sure to include "
        "the relevant import statements:\n```python\ncode\n```\n"
    )


def test_setup_code_is_shown_before_the_tests_without_windows_line_ends(shared_data_dir):
    text = format_prompt(get_problem("mbpp", 367, shared_data_dir))
    assert "these tests:\n\nroot = Node(1)" in text and "\r" not in text
    text = format_prompt(get_problem("mbpp-plus-snapshot", 82, shared_data_dir))
    assert "import math\nassert math.isclose(volume_sphere(10)" in text


def test_train_prompt_shows_all_three_asserts(shared_data_dir):
    p = load_problems("mbpp", "train", shared_data_dir)[0]
    text = format_prompt(p)
    assert all(t in text for t in p.public_tests) and len(p.public_tests) == 3


def test_humaneval_prompt_shows_the_signature_and_one_example():
    p = get_problem("humaneval", 0)
    text = format_prompt(p)
    assert "def has_close_elements(numbers: List[float], threshold: float) -> bool:" in text
    assert "assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False\n" in text
    assert "check(" not in text
