"""How a worker process is started: isolating itself (``native``) or inside bubblewrap.

``native`` workers enter Linux namespaces themselves (see ``namespaces``). ``bwrap``
starts each worker under bubblewrap, which builds the same walls from outside: new
network, pid, ipc and uts namespaces (a user namespace too when not root) and the same
read-only allow-list view of the file system (see ``view``), with private tmpfs on the
writable places, a fresh /proc and a minimal /dev. That helps where a process may not
create namespaces itself but a (setuid) ``bwrap`` is installed. ``auto`` uses ``native``
and falls back to ``bwrap`` when the kernel refused the native namespaces and ``bwrap`` is
on the PATH. Choose with ``Sandbox(launcher=...)`` or ``$MUCODE_SANDBOX_LAUNCHER``.
"""

from __future__ import annotations

import os
import shutil
from enum import Enum

from mucode.core.errors import ConfigError
from mucode.sandbox.namespaces import TMPFS_DIRS, VIEW_LAYER, Kind
from mucode.sandbox.view import View

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
    tmpfs_mb: int, view: View, as_root: bool | None = None
) -> tuple[list[str], list[str]]:
    """The ``bwrap`` arguments that wrap a worker's command line, and the layers they give.

    ``view``: what programs see (see ``view``), expressed as bubblewrap arguments.
    ``as_root``: whether the worker will start as root (default: whether we are root);
    other users get a user namespace too.
    """
    as_root = os.geteuid() == 0 if as_root is None else as_root
    argv = [bwrap_path(), "--die-with-parent", "--as-pid-1", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]  # fmt: skip
    if not as_root:
        argv.append("--unshare-user")
    for kind, path, argument in view.steps:
        argv += _bwrap_step(Kind(kind), path, argument, tmpfs_mb)
    # read-only once everything inside is in place: frames, masks, /dev, the root itself
    masked_dirs = [path for path in view.paths(Kind.MASK) if os.path.isdir(path)]
    for path in [*view.paths(Kind.FRAME), *masked_dirs, *view.paths(Kind.DEV), "/"]:
        argv += ["--remount-ro", path]
    kinds = "mount, network, pid, ipc, uts"
    layers = [
        f"bubblewrap: namespaces ({kinds if as_root else 'user, ' + kinds})",
        f"bubblewrap: {VIEW_LAYER}",
        "bubblewrap: read-only root filesystem",
        f"bubblewrap: private tmpfs on {', '.join(TMPFS_DIRS)} ({tmpfs_mb} MiB)",
        "bubblewrap: private /proc and minimal /dev",
    ]
    return [*argv, "--"], layers


def _bwrap_step(kind: Kind, path: str, argument: str, tmpfs_mb: int) -> list[str]:
    """One step of the view as bubblewrap arguments."""
    if kind is Kind.DIR:
        return ["--perms", "0755", "--dir", path]
    if kind is Kind.SYMLINK:
        return ["--symlink", argument, path]
    if kind is Kind.BIND:
        return ["--ro-bind", argument, path]
    if kind is Kind.TMPFS:
        return ["--perms", "1777", "--size", str(tmpfs_mb << 20), "--tmpfs", path]
    if kind is Kind.PROC:
        return ["--proc", path]
    if kind is Kind.DEV:
        return ["--dev", path]
    if kind is Kind.MASK and not os.path.isdir(path):
        return ["--ro-bind", "/dev/null", path]
    return ["--perms", "0755", "--size", str(1 << 20), "--tmpfs", path]  # a frame, a masked dir
