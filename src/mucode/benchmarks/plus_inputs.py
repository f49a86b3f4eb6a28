"""MBPP+ inputs: restore the Python types JSON lost, and write inputs back as Python source.

JSON has no tuples, sets or complex numbers, so EvalPlus stores such arguments as lists or
strings and converts them per task when loading (``mbpp_deserialize_inputs`` in
``evalplus/data/mbpp.py``, the v0.1.0 era that matches our 2023-11 snapshot). The task lists
below restate those facts; the conversions are ours. One upstream quirk is kept on purpose
for comparable results: in Mbpp/115 every argument item that is not a non-empty list
becomes ``{}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Args = list[Any]

_EVERY_ARG_TUPLE = frozenset(
    {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630,
     726, 740, 744, 809}
)  # fmt: skip
_EVERY_ARG_TUPLE_ROWS = frozenset(
    {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
)  # every argument is a list of tuples
_FIRST_ARG_TUPLE_ROWS = frozenset({75, 413, 444, 753})
_SECOND_ARG_TUPLE = frozenset({106, 750})
_FIRST_ARG_TUPLE = frozenset({250, 307, 405, 446, 617, 720, 763, 808})
_EVERY_ARG_TUPLE_OF_TUPLES = frozenset({259, 401, 445})
_EVERYTHING_TUPLE = frozenset({580, 615, 791})  # every list at every depth


def _tuples_deep(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples_deep(item) for item in value)
    return value


def _sets_or_empty(items: list[Any]) -> list[Any]:
    return [set(item) if isinstance(item, list) and item else {} for item in items]


_SPECIAL: dict[int, Callable[[Args], Args]] = {
    115: lambda a: [_sets_or_empty(a[0])],
    124: lambda a: [float(a[0]), complex(a[1])],
    252: lambda a: [complex(a[0])],
    278: lambda a: [tuple(tuple(x) if isinstance(x, list) else x for x in a[0])],
    722: lambda a: [{key: tuple(value) for key, value in a[0].items()}, *a[1:]],
}


def restore_args(number: int, args: Args) -> Args:
    """One input (the argument list) of task ``Mbpp/<number>`` with its Python types back."""
    if number in _EVERY_ARG_TUPLE:
        return [tuple(a) for a in args]
    if number in _EVERY_ARG_TUPLE_ROWS:
        return [[tuple(row) for row in a] for a in args]
    if number in _FIRST_ARG_TUPLE_ROWS:
        return [[tuple(row) for row in args[0]], *args[1:]]
    if number in _SECOND_ARG_TUPLE:
        return [args[0], tuple(args[1]), *args[2:]]
    if number in _FIRST_ARG_TUPLE:
        return [tuple(args[0]), *args[1:]]
    if number in _EVERY_ARG_TUPLE_OF_TUPLES:
        return [tuple(tuple(row) for row in a) for a in args]
    if number in _EVERYTHING_TUPLE:
        return [_tuples_deep(a) for a in args]
    if number in _SPECIAL:
        return _SPECIAL[number](args)
    return args


def py_literal(value: Any) -> str:
    """Python source that evaluates to ``value``.

    ``repr`` is right for everything our inputs hold except non-finite floats (``inf``,
    ``nan``, also inside complex numbers) and sets, whose ``repr`` order changes with
    string hashing from one process to the next; so it is the fast path whenever its text
    cannot contain either, and otherwise the value is written out piece by piece, sets in
    sorted order, so the same data always gives the same tests.
    """
    text = repr(value)
    if "inf" not in text and "nan" not in text and not _contains_set(value):
        return text
    return _careful_literal(value)


def _contains_set(value: Any) -> bool:
    if isinstance(value, (set, frozenset)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_set(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_set(k) or _contains_set(v) for k, v in value.items())
    return False


def _careful_literal(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, complex):
        return f"complex({_careful_literal(value.real)}, {_careful_literal(value.imag)})"
    if isinstance(value, list):
        return "[" + ", ".join(_careful_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_careful_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        items = ", ".join(f"{_careful_literal(k)}: {_careful_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (set, frozenset)):
        inner = ", ".join(sorted(_careful_literal(v) for v in value))
        return f"{type(value).__name__}([{inner}])"
    return repr(value)  # None, bool, int, str
