"""Which process of a multi-process training run this is, so that one alone writes outputs.

Under ``accelerate launch`` (or ``torchrun``) every process runs the whole command. The
Trainer shards the batches and writes its own checkpoints from the right ranks; anything
else a command writes (manifest, ``verifier.json``, ``generator.json``, ``adapter.gguf``,
the console) comes from the main process alone, and shared caches are built by one process
per machine before the others read them. A process without a launcher is the main one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accelerate import PartialState


def use_cpu() -> bool:
    """Train on the CPU: there is no CUDA device. The Trainer must be told so (its
    ``use_cpu``), or each process of a launch on a CPU machine trains alone on all the data
    instead of joining the others over gloo."""
    import torch

    return not torch.cuda.is_available()


def process_state() -> PartialState:
    """accelerate's ``PartialState`` of this process, on the device the Trainer uses
    (``is_main_process``, ``main_process_first()``, ``local_main_process_first()``)."""
    from accelerate import PartialState

    return PartialState(cpu=use_cpu())
