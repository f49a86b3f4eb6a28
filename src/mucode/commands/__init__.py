"""Command bodies: parse what typer gave, call the library, render the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mucode.core.errors import ConfigError, validation_problems

if TYPE_CHECKING:  # `mucode --help` imports this package (options.py) and must not load these
    from pydantic import ValidationError
    from rich.console import Console


def invalid_options(command: str, error: ValidationError) -> ConfigError:
    """A readable ``ConfigError`` naming each bad option, in place of pydantic's report."""
    return ConfigError(f"invalid {command} options: {validation_problems(error)}")


def context_full_warning(count: int, episodes: str) -> str:
    """The console warning for ``count`` episodes or searches that outgrew the context."""
    return (f"[yellow]{count} {episodes} ended early: the conversation outgrew the context "
            "window (llamacpp: raise --context; or lower --max-tokens)[/]")  # fmt: skip


def infra_error_warning(count: int, episodes: str) -> str:
    """The console warning for ``count`` episodes or searches the sandbox kept failing on."""
    return (f"[yellow]{count} {episodes} ended early: the sandbox kept failing on their "
            "code (infra_error), so they are left out of the accuracy; see "
            "`mucode sandbox info`[/]")  # fmt: skip


def quiet_unless_main(console: Console) -> None:
    """Silence ``console`` in every process of an ``accelerate launch`` but the main one:
    the others train their shards and would print the same summary again."""
    from mucode.core.processes import process_state

    console.quiet = not process_state().is_main_process
