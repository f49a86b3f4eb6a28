"""Turn one HumanEval usage example into a self-contained ``assert``.

Examples come in many spellings in the docstrings: doctest (``>>> f(x)`` then the output
line), ``f(x) ==> y``, ``=> y``, ``➞ y``, ``-> y``, ``== y``, ``= y``, ``returns y`` and
``# returns y``. We keep only examples whose call and expected value parse as Python and
use no names but the entry point and builtins (``true``/``false`` are read as booleans), and
emit ``assert <call> == <expected>``. Parsing only: nothing is executed here.
"""

from __future__ import annotations

import ast
import builtins
import re

_SEPARATOR = re.compile(r"\s*(?:==>|=>|➞|->|==|=|#\s*=>|#\s*returns|returns)\s*")
_BOOLEANS = {"true": "True", "false": "False"}
_MAX_CALL_LINES = 12  # a call spread over more lines than this is not an example we want


def docstring_example(prompt: str, entry_point: str) -> str | None:
    """The first usable example in ``entry_point``'s docstring as an assert, or None."""
    lines = _docstring_lines(prompt, entry_point)
    call = re.compile(rf"(?<![\w.]){re.escape(entry_point)}\(")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">>>"):
            test = _doctest_example(lines, i, entry_point)
        elif (match := call.search(line)) is not None:
            test = _inline_example(lines, i, match.start(), entry_point)
        else:
            continue
        if test is not None:
            return test
    return None


def check_example(test_code: str, entry_point: str) -> str | None:
    """The first top-level assert of ``check(candidate)`` that calls the candidate and needs
    nothing but builtins, with ``candidate`` renamed to ``entry_point``; or None."""
    try:
        module = ast.parse(test_code)
    except SyntaxError:
        return None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            for stmt in node.body:
                if isinstance(stmt, ast.Assert) and _usable(stmt, "candidate"):
                    return ast.unparse(_Rename("candidate", entry_point).visit(stmt))
    return None


def _docstring_lines(prompt: str, entry_point: str) -> list[str]:
    try:
        module = ast.parse(prompt)
    except SyntaxError:
        return []
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return (ast.get_docstring(node) or "").splitlines()
    return []


def _doctest_example(lines: list[str], i: int, entry_point: str) -> str | None:
    source = lines[i].lstrip()[3:]
    j = i + 1
    while j < len(lines) and lines[j].lstrip().startswith("..."):
        source += "\n" + lines[j].lstrip()[3:]
        j += 1
    if j == len(lines) or not lines[j].strip() or lines[j].lstrip().startswith(">>>"):
        return None  # no output line: nothing to compare with
    return _make_assert(source, [lines[j].strip()], entry_point)


def _inline_example(lines: list[str], i: int, start: int, entry_point: str) -> str | None:
    text = "\n".join([lines[i][start:], *lines[i + 1 : i + _MAX_CALL_LINES]])
    end = _call_end(text, entry_point)
    if end is None:
        return None
    rest = text[end:].split("\n", 1)[0]
    separator = _SEPARATOR.match(rest)
    if separator is None:
        return None
    expected = rest[separator.end() :].strip()
    # "f(x) -> 19 - 5 - 6 = 8": a worked derivation; the value is after the last "=".
    candidates = [expected, expected.rsplit("=", 1)[-1].strip()] if "=" in expected else [expected]
    return _make_assert(text[:end], candidates, entry_point)


def _call_end(text: str, entry_point: str) -> int | None:
    """Index just past the call to ``entry_point`` that ``text`` starts with."""
    for k, char in enumerate(text):
        if char != ")":
            continue
        try:
            node = ast.parse(text[: k + 1], mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return k + 1 if node.func.id == entry_point else None
    return None


def _make_assert(call_source: str, expected_sources: list[str], entry_point: str) -> str | None:
    try:
        call = ast.parse(call_source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not _usable(call, entry_point):
        return None
    for source in expected_sources:
        try:
            expected = ast.parse(_BOOLEANS.get(source, source), mode="eval").body
        except SyntaxError:
            continue
        if _free_names(expected) <= _BUILTINS:
            return f"assert {ast.unparse(call)} == {ast.unparse(expected)}"
    return None


_BUILTINS = frozenset(dir(builtins))


def _usable(node: ast.AST, callee: str) -> bool:
    """Calls ``callee`` and uses no other non-builtin names."""
    calls = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == callee
        for n in ast.walk(node)
    )
    return calls and _free_names(node) <= _BUILTINS | {callee}


def _free_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == self.old:
            return ast.copy_location(ast.Name(id=self.new, ctx=node.ctx), node)
        return node
