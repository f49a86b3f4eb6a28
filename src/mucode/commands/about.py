"""What ``mucode --version`` prints: the version, the git revision when mucode runs from a
source checkout, Python, and the versions of the optional engines that are installed."""

from __future__ import annotations

import importlib.metadata
import platform

from mucode import __version__
from mucode.core.manifest import git_state

# generation engines, then the libraries behind the verifier, adapters and export
OPTIONAL = ("xllamacpp", "openai", "vllm", "torch", "transformers", "peft", "datasets")


def version_lines() -> list[str]:
    """``mucode X`` (with ``git REV``, ``+dirty`` in a checkout), ``python X``, then one
    ``name X`` line per installed optional package."""
    git = git_state()
    head = f"mucode {__version__}"
    if git["revision"]:
        head += f" (git {git['revision'][:12]}{' +dirty' if git['dirty'] else ''})"
    lines = [head, f"python {platform.python_version()}"]
    for name in OPTIONAL:
        try:
            lines.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return lines
