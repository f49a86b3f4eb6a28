"""How a worker process is started: isolating itself (``native``) or inside bubblewrap.

``native`` workers enter Linux namespaces themselves (see ``namespaces``). ``bwrap``
starts each worker under bubblewrap, which builds the same walls from outside: new
network, pid, ipc and uts namespaces (a user namespace too when not root), a read-only
view of the tree, private tmpfs on the writable places, home directories hidden, a
fresh /proc and a minimal /dev. That helps where a process may not create namespaces
itself but a (setuid) ``bwrap`` is installed. ``auto`` uses ``native`` and falls back to
``bwrap`` when the kernel refused the native namespaces and ``bwrap`` is on the PATH.
Choose with ``Sandbox(launcher=...)`` or ``$MUCODE_SANDBOX_LAUNCHER``.
"""

from __future__ import annotations

import os
import shutil
from enum import Enum
from pathlib import Path

from mucode.errors import ConfigError
from mucode.sandbox import namespaces
from mucode.sandbox.namespaces import HIDDEN_DIRS, TMPFS_DIRS, dirs_under, private_covers

IMPORT_ROOT = str(Path(__file__).resolve().parents[2])  # the directory mucode imports from

LAUNCHER_ENV = "MUCODE_SANDBOX_LAUNCHER"


class Launcher(str, Enum):
    """Who isolates a sandbox worker."""

    AUTO = "auto"
    NATIVE = "native"
    BWRAP = "bwrap"


def requested_launcher(launcher: Launcher | str | None) -> Launcher:
    """The launcher asked for, else ``$MUCODE_SANDBOX_LAUNCHER``, else ``auto``."""
    value = launcher if launcher is not None else os.environ.get(LAUNCHER_ENV, "auto")
    try:
        return Launcher(value)
    except ValueError:
        names = ", ".join(m.value for m in Launcher)
        raise ConfigError(f"unknown sandbox launcher {value!r} (one of: {names})") from None


def bwrap_path() -> str:
    """The ``bwrap`` executable, or a ConfigError that says how to get it."""
    found = shutil.which("bwrap")
    if found is None:
        raise ConfigError(
            "the bwrap sandbox launcher needs bubblewrap on the PATH "
            "(Debian/Ubuntu: apt-get install bubblewrap)"
        )
    return found


def bwrap_available() -> bool:
    """Whether ``bwrap`` is on the PATH."""
    return shutil.which("bwrap") is not None


def falls_back_to_bwrap(requested: Launcher, natively_isolated: bool) -> bool:
    """Under ``auto``: use bubblewrap when the kernel refused the native namespaces (the
    first worker has no pid namespace) and ``bwrap`` is installed."""
    return requested is Launcher.AUTO and not natively_isolated and bwrap_available()


def bwrap_command(
    tmpfs_mb: int, as_root: bool | None = None, python_dirs: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """The ``bwrap`` arguments that wrap a worker's command line, and the layers they give.

    ``as_root``: whether the worker will start as root (default: whether we are root);
    other users get a user namespace too. ``python_dirs``: where the worker's interpreter
    imports from (default: this interpreter's), kept visible under hidden directories.
    """
    as_root = os.geteuid() == 0 if as_root is None else as_root
    size = str(tmpfs_mb * 1024 * 1024)
    argv = [bwrap_path(), "--die-with-parent", "--as-pid-1", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]  # fmt: skip
    if not as_root:
        argv.append("--unshare-user")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in TMPFS_DIRS:
        if os.path.isdir(path):
            argv += ["--perms", "1777", "--size", size, "--tmpfs", path]
    dirs = python_dirs if python_dirs is not None else namespaces.python_dirs(extra=[IMPORT_ROOT])
    covers, _ = private_covers(dirs)
    for cover in sorted(covers, key=len):
        argv += ["--size", str(1024 * 1024), "--tmpfs", cover]
    # the interpreter, its packages and mucode itself may live under a hidden or a tmpfs
    # directory (a checkout in /tmp, say): bind them back, read-only
    hidden = covers | {d for d in TMPFS_DIRS if os.path.isdir(d)}
    made: set[str] = set()
    for path in dirs_under(dirs, hidden):  # bubblewrap makes missing parents 0700: open them
        for parent in _parents_below(path, hidden):
            if parent not in made:
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        argv += ["--ro-bind", path, path]
    kinds = "mount, network, pid, ipc, uts"
    layers = [
        f"bubblewrap: namespaces ({kinds if as_root else 'user, ' + kinds})",
        "bubblewrap: read-only root filesystem",
        f"bubblewrap: private tmpfs on {', '.join(TMPFS_DIRS)} ({tmpfs_mb} MiB)",
        f"bubblewrap: {' and '.join(HIDDEN_DIRS)} hidden",
        "bubblewrap: private /proc and minimal /dev",
    ]
    return [*argv, "--"], layers


def _parents_below(path: str, covers: set[str]) -> list[str]:
    """The directories between the cover that hides ``path`` and ``path``, outermost first."""
    cover = max((c for c in covers if path.startswith(c + "/")), key=len)
    parts = path[len(cover) + 1 :].split("/")[:-1]
    return ["/".join([cover, *parts[: i + 1]]) for i in range(len(parts))]
