"""Run untrusted, model-written Python against tests, safely and fast.

Isolates (where the kernel allows; ``mucode sandbox info`` says what is active): network,
filesystem (an allow-list view: the interpreter and its packages, read-only, benchmark data
masked; private /tmp wiped after each run), other processes (pid namespace, unprivileged
uid), environment, and resources (CPU, memory, file size, open files, processes). Not a
defence against kernel exploits.

Exports load lazily: the worker processes import modules of this package and must not
pay for pydantic (a bigger heap makes every fork slower).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mucode.sandbox.limits import Limits
    from mucode.sandbox.pool import Job, Sandbox, SandboxInfo
    from mucode.sandbox.runner import ProgramRunner, open_sandbox

_EXPORTS = {"Limits": "limits", "Job": "pool", "Sandbox": "pool", "SandboxInfo": "pool",
            "ProgramRunner": "runner", "open_sandbox": "runner"}  # fmt: skip
__all__ = ["Job", "Limits", "ProgramRunner", "Sandbox", "SandboxInfo", "open_sandbox"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mucode.sandbox' has no attribute {name!r}")
    return getattr(import_module(f"mucode.sandbox.{_EXPORTS[name]}"), name)
