"""Resource limits for one sandboxed program run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Per-run limits. The wall clock is owned by the parent; the rest are rlimits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(10.0, gt=0, description="Wall-clock limit for program plus tests.")
    cpu_s: int | None = Field(
        None, ge=1, description="CPU-time limit; default is the wall limit rounded up, plus 1 s."
    )
    memory_mb: int = Field(2048, ge=64, description="Address-space limit (RLIMIT_AS) in MiB.")
    file_size_mb: int = Field(16, ge=1, description="Largest file the program may write, in MiB.")
    open_files: int = Field(64, ge=16, description="Maximum open file descriptors.")
    processes: int = Field(
        32, ge=1, description="Maximum processes and threads the program may have at once."
    )
    output_kb: int = Field(64, ge=1, description="Captured stdout+stderr kept, in KiB.")
    feedback_chars: int = Field(2000, ge=200, description="Longest feedback text returned.")

    @property
    def effective_cpu_s(self) -> int:
        """CPU limit actually applied."""
        return self.cpu_s if self.cpu_s is not None else int(self.timeout_s) + 2


def limits_from_options(**options: float | int | None) -> Limits:
    """Limits with the given (non-None) fields; the rest keep their defaults."""
    return Limits(**{name: value for name, value in options.items() if value is not None})
