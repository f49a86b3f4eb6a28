"""Standard-library imports that benchmark tests use but leave to the solution.

Some tests call ``math.isclose`` or ``sys.getsizeof`` without importing the module: they pass
only because the reference solution happens to import it (MBPP task 596; MBPP+ Mbpp/120,
/442, /574). A candidate that does not is then failed for the test's omission, with a
confusing NameError. We prepend the missing ``import`` to the setup code; nothing else changes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

_STDLIB = frozenset(sys.stdlib_module_names)
_ATTRIBUTE_BASE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\.\s*[A-Za-z_]")


def with_missing_imports(setup: str, tests: Iterable[str]) -> str:
    """``setup`` preceded by ``import m`` for each stdlib module ``m`` used as ``m.attr`` in
    ``setup`` or ``tests`` and imported in neither."""
    text = "\n".join((setup, *tests))
    missing = sorted(
        name
        for name in set(_ATTRIBUTE_BASE.findall(text)) & _STDLIB
        if not re.search(rf"\bimport\s+(?:[\w.]+\s*,\s*)*{name}\b", text)
    )
    if not missing:
        return setup
    return "\n".join([*(f"import {name}" for name in missing), *([setup] if setup else [])])
