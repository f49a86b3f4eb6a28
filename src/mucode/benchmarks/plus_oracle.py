"""How MBPP+ compares a candidate's output with the reference's, as EvalPlus does.

Equality, else closeness within ``atol`` (1e-6 when the task's atol is 0 and the expected
output is a float or a sequence of floats), plus EvalPlus's three special oracles. The
sandbox applies it outside the program; its source is also written into each differential
test, so a test run by plain ``python3`` compares the same way. Keep it self-contained:
plain functions that need nothing but ``math``.
"""

import math


def is_floats(x):
    """A float, or a list or tuple of floats only."""
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and all(isinstance(i, float) for i in x)


def close(got, want, tol):
    """Element-wise closeness: within ``tol`` plus a relative 1e-7, NaN equal to NaN."""
    if isinstance(got, (list, tuple)) and isinstance(want, (list, tuple)):
        pairs = zip(got, want, strict=True) if len(got) == len(want) else ()
        return len(got) == len(want) and all(close(g, w, tol) for g, w in pairs)
    try:
        if math.isnan(got) and math.isnan(want):
            return True
        return abs(got - want) <= tol + 1e-07 * abs(want)
    except TypeError:
        return False


def same(got, want, atol, oracle):
    """Whether output ``got`` is accepted where the reference gave ``want``."""
    if oracle == "not_none":
        return (got is None) == (want is None)
    if oracle == "always" or got == want or (oracle == "zero_ok" and got == 0):
        return True
    tol = atol if atol or not is_floats(want) else 1e-06
    return tol != 0 and close(got, want, tol)
