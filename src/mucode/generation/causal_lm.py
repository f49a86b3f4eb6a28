"""Where a transformers causal LM comes from (the generator to fine-tune, a verifier's
backbone): an HF directory, a hub id, or a GGUF file (the embedded default among them),
de-quantised once into a cached transformers copy.

A copy lives in ``cache_dir()/hf/<key>``. It is built in a temporary directory beside it,
its source record (``mucode-source.json``: the GGUF's size, sha256, transformers version)
written inside, then renamed into place, so a directory there is always complete; one whose
record does not match the GGUF any more is rebuilt. Training on this copy trains on exactly
the weights llama.cpp later applies an adapter to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.core.cache import cache_dir
from mucode.core.errors import ConfigError
from mucode.core.files import install_directory
from mucode.core.optional import import_optional
from mucode.generation.models import DEFAULT_MODEL, resolve_model
from mucode.generation.tiny_model import TINY, tiny_model_dir

logger = logging.getLogger(__name__)

EMBEDDED = "embedded"
SOURCE_RECORD = "mucode-source.json"
INSTALL = "pip install 'mucode[train]'"
_HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


@dataclass(frozen=True, slots=True)
class GGUFSource:
    """A GGUF file to de-quantise, where its copy goes, and what identifies it."""

    path: Path
    copy: Path
    identity: dict[str, Any]  # must equal the copy's record, key by key


def is_gguf_base(name: str) -> bool:
    """Whether ``name`` is the embedded model or a GGUF file (both need de-quantising)."""
    return name == EMBEDDED or name.lower().endswith(".gguf")


def resolve_causal_lm(name: str) -> str:
    """A path or hub id that ``from_pretrained`` loads (model and tokenizer).

    ``embedded`` is the embedded default GGUF (Qwen2.5-Coder-0.5B-Instruct Q4_K_M) and a
    ``.gguf`` path is that file: both are de-quantised into a cached float32 copy on first
    use (the embedded model: about a minute, 2.5 GB). Any other name is an HF model directory
    or a hub id and is returned as it is; a missing local path is an error. ``tiny`` is a
    tiny random chat model for smoke runs (``mucode.generation.tiny_model``).
    """
    if name == TINY:
        return str(tiny_model_dir())
    if is_gguf_base(name):
        return str(hf_copy(gguf_source(name)))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists():
        raise ConfigError(f"{path} is a file; expected a model directory, a hub id or a .gguf")
    parent = path.parent
    if not _HUB_ID.fullmatch(name) or name.startswith(".") or (parent.name and parent.is_dir()):
        raise ConfigError(f"model directory {path} does not exist")
    return name


def bf16_is_native() -> bool:
    """Whether this machine computes bfloat16 natively: a GPU that supports it, or a CPU with
    AVX512-BF16/AMX (oneDNN says). On an AVX2-only CPU a bf16 linear layer's forward and
    backward measured 40-50x slower than float32, so callers choosing a dtype should ask."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def gguf_source(name: str) -> GGUFSource:
    """The GGUF behind ``name`` (``embedded`` or a file path) and where its copy belongs."""
    root = cache_dir() / "hf"
    if name == EMBEDDED:
        path = resolve_model()
        identity = {"sha256": DEFAULT_MODEL.sha256, "size": DEFAULT_MODEL.size}
        return GGUFSource(path, root / Path(DEFAULT_MODEL.filename).stem, identity)
    path = resolve_model(name).resolve()
    stat = path.stat()
    where = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    identity = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return GGUFSource(path, root / f"{path.stem}-{where}", identity)


def hf_copy(source: GGUFSource) -> Path:
    """The transformers copy of ``source``, built (atomically) if missing or stale."""
    if _matches(source.copy, source.identity):
        return source.copy
    transformers = import_optional("transformers", "a GGUF base model", INSTALL)
    import_optional("gguf", "reading a GGUF base model into transformers", INSTALL)
    logger.warning(
        "de-quantising %s into a transformers copy at %s: once; the embedded 0.5B model takes "
        "about a minute and 2.5 GB of disk", source.path, source.copy,
    )  # fmt: skip
    source.copy.parent.mkdir(parents=True, exist_ok=True)
    building = source.copy.with_name(f".{source.copy.name}.{os.getpid()}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    started = time.perf_counter()
    try:
        _dequantise(transformers, source.path, building)
        record = {**source.identity, "source": str(source.path),
                  "sha256": source.identity.get("sha256") or _sha256(source.path),
                  "transformers": transformers.__version__,
                  "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
        (building / SOURCE_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        install_directory(building, source.copy, lambda copy: _matches(copy, source.identity))
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return source.copy


def _dequantise(transformers, gguf: Path, out: Path) -> None:
    """Load ``gguf`` into transformers in float32 and save it (model and tokenizer) to ``out``."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype="float32"
    )
    # the loaded model counts as gguf-quantised and save_pretrained refuses it; its weights
    # are plain float tensors by now, so drop the quantiser and its config entry
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _matches(copy: Path, identity: dict[str, Any]) -> bool:
    try:
        record = json.loads((copy / SOURCE_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return all(record.get(key) == value for key, value in identity.items())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()
