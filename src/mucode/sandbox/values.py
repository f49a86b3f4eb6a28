"""A safe wire form for the values a test compares, so the comparison can leave the child.

The child encodes the value its candidate expression produced; the pool decodes it and
compares it with the expected value it kept to itself. Only plain values travel: ``None``,
``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``list``, ``tuple``,
``dict``, ``set``, ``frozenset``, ``Fraction`` and ``Decimal``, and subclasses of them that
compare as their base does (``defaultdict``, ``OrderedDict``, ``Counter``, named tuples,
``IntEnum``...), plus NumPy scalars (as the Python scalar of the same value). Anything else
is sent as an opaque ``Unsupported`` (type name and repr) that equals nothing. Decoding
never runs code a child wrote: it builds plain objects from JSON.

Runs inside the sandboxed child too, so it imports nothing heavy.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

MAX_DEPTH = 100  # nesting beyond this is sent as Unsupported
REPR_CHARS = 300

# Subclasses whose own __eq__ compares with a plain base-type value exactly as the base does.
_SAFE_EQ_OVERRIDES = (OrderedDict.__eq__, Counter.__eq__)
_SCALARS = {bool: "b", int: "i", float: "f", str: "s", bytes: "y", type(None): "n"}
_SEQUENCES = {list: "l", tuple: "t", set: "S", frozenset: "F"}
_BASES = (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
_EXACT = (*_SCALARS, *_SEQUENCES, dict, complex)


@dataclass(frozen=True)
class Unsupported:
    """A value of a type that mucode does not compare outside the program; equals nothing."""

    type_name: str
    text: str

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return hash((self.type_name, self.text))

    def __repr__(self) -> str:
        return self.text


def encode(value: Any) -> str:
    """The JSON wire form of ``value`` (never raises)."""
    try:
        return json.dumps(_encode(value, 0))
    except Exception:  # noqa: BLE001 - a hostile value may raise anything while being read
        return json.dumps(["?", _type_name(value), "<unreadable>"])


def decode(text: str) -> Any:
    """The value ``encode`` wrote; ``ValueError`` for anything malformed."""
    try:
        return _decode(json.loads(text))
    except (TypeError, KeyError, IndexError, RecursionError, ArithmeticError) as e:
        raise ValueError(f"malformed value: {e!r}") from None


def _type_name(value: Any) -> str:
    try:
        kind = type(value)
        return f"{kind.__module__}.{kind.__qualname__}"
    except Exception:  # noqa: BLE001 - a hostile metaclass may raise
        return "<unknown type>"


def _base_of(value: Any) -> type | None:
    """The plain type ``value`` compares as, or None."""
    kind = type(value)
    # identity only: a metaclass's __eq__ and __hash__ must not pass a class off as list
    if any(kind is plain for plain in _EXACT):
        return kind
    for base in _BASES:
        if isinstance(value, base):
            eq = getattr(kind, "__eq__", None)
            safe = eq is base.__eq__ or any(eq is known for known in _SAFE_EQ_OVERRIDES)
            return base if safe else None
    return None


def _numpy_scalar(value: Any) -> Any:
    """The Python scalar of a NumPy scalar, else ``value``."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    return value


def _encode(value: Any, depth: int) -> list:
    value = _numpy_scalar(value)
    base = _base_of(value)
    if depth > MAX_DEPTH or base is None:
        return _encode_other(value)
    if base is bool:
        return ["b", bool(value)]
    if base is int:
        return ["i", hex(int.__index__(value))]  # hex: no int-to-str digit limit
    if base is float:
        return ["f", repr(float.__float__(value))]
    if base is complex:
        return ["c", repr(value.real), repr(value.imag)]
    if base is str:
        return ["s", str.__str__(value)]
    if base is bytes:
        return ["y", bytes(value).hex()]
    if base is type(None):
        return ["n"]
    if base is dict:
        return ["d", [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in dict.items(value)]]
    return [_SEQUENCES[base], [_encode(item, depth + 1) for item in base.__iter__(value)]]


def _encode_other(value: Any) -> list:
    if type(value) is Fraction:
        return ["q", hex(value.numerator), hex(value.denominator)]
    if type(value) is Decimal:
        return ["D", str(value)]
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - untrusted __repr__
        text = "<unrepresentable>"
    if not isinstance(text, str):
        text = "<unrepresentable>"
    if len(text) > REPR_CHARS:
        text = text[: REPR_CHARS - 3] + "..."
    return ["?", _type_name(value), text]


def _decode(item: list) -> Any:
    tag = item[0]
    if tag in _DECODERS:
        return _DECODERS[tag](item)
    if tag == "d":
        return {_decode(k): _decode(v) for k, v in item[1]}
    if tag in ("l", "t", "S", "F"):
        items = [_decode(x) for x in item[1]]
        return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
    raise ValueError(f"unknown tag {tag!r}")


def _str(item: list) -> str:
    if not isinstance(item[1], str):
        raise TypeError("expected a string")
    return item[1]


_DECODERS = {
    "n": lambda item: None,
    "b": lambda item: bool(item[1]),
    "i": lambda item: int(_str(item), 16),
    "f": lambda item: float(_str(item)),
    "c": lambda item: complex(float(item[1]), float(item[2])),
    "s": _str,
    "y": lambda item: bytes.fromhex(_str(item)),
    "q": lambda item: Fraction(int(item[1], 16), int(item[2], 16)),
    "D": lambda item: Decimal(_str(item)),
    "?": lambda item: Unsupported(str(item[1]), str(item[2])),
}
