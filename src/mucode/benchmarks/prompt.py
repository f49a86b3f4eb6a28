"""The turn-1 user message: problem statement, public test(s), answer-format instruction.

Wording and layout follow the µCode reference implementation (portal-cornell/muCode,
``src/env/benchmarks/commit0_utils.py``, ``generate_prompt``, itself taken from commit0),
which every muCode benchmark wrapper uses: the statement, then "Your code should satisfy
these tests:" with the test setup code and the public test(s), then a request for only the
implementation in one ```python block. As there, HumanEval's statement is its prompt
(signature and docstring) and MBPP train tasks show all three public asserts. The template
text is restated here, not imported.
"""

from __future__ import annotations

from mucode.core.records import Problem

_TEMPLATE = """Write a Python function implementation for the following prompt:

{statement}

Your code should satisfy these tests:

{tests}

Return only the implementation code, no tests or explanations. Be sure to include the \
relevant import statements:
```python
code
```
"""


def format_prompt(problem: Problem) -> str:
    """The text shown to the model on turn 1: statement, public tests, answer format."""
    tests = "\n".join(part for part in (problem.setup_code.strip(), *problem.public_tests) if part)
    text = _TEMPLATE.format(statement=problem.prompt.strip(), tests=tests)
    return text.replace("\r\n", "\n")  # MBPP's Windows line ends; display only
