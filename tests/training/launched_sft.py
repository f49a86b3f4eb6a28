"""``fine_tune`` with settings given as JSON, for a test to run under ``accelerate launch``
(the CLI has no option for LoRA's dropout, which must be 0 to compare process counts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mucode.training.sft import SFTConfig, fine_tune

if __name__ == "__main__":
    fine_tune(SFTConfig(**json.loads(sys.argv[1])), Path(sys.argv[2]))
