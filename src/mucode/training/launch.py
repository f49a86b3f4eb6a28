"""The ``accelerate launch`` configs shipped with mucode (``accelerate/NAME.yaml``).

``ddp`` (data parallel, one process per GPU; on a machine without CUDA the processes train
on the CPU over gloo), ``fsdp`` (FSDP2, sharded, GPUs only) and ``deepspeed-zero3``
(ZeRO stage 3, GPUs only). ``mucode accelerate-config NAME`` prints a path for
``accelerate launch --config_file``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mucode.core.errors import ConfigError

CONFIGS = resources.files("mucode.training") / "accelerate"


def accelerate_configs() -> list[str]:
    """Names of the packaged accelerate configs."""
    return sorted(p.name.removesuffix(".yaml") for p in CONFIGS.iterdir()
                  if p.name.endswith(".yaml"))  # fmt: skip


def accelerate_config(name: str) -> Path:
    """The file of the packaged accelerate config ``name``."""
    if name not in accelerate_configs():
        raise ConfigError(f"no accelerate config {name!r}; choose from {accelerate_configs()}")
    return Path(str(CONFIGS / f"{name}.yaml"))
