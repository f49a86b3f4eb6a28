"""Worker-side isolation: namespaces, a read-only root, private /tmp, a fresh /proc.

The worker calls :func:`isolate_worker` once at start-up. It tries the strongest layers
the kernel allows and records each one it got (and why it missed the others), so
``mucode sandbox info`` can say exactly what protects the machine.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mucode.sandbox import linux

TMPFS_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # the world-writable places on a normal system
HIDDEN_DIRS = ("/root", "/home")  # tokens, keys and caches live here; programs need none of it


@dataclass
class Layers:
    """Which isolation layers are active, and why missing ones are missing."""

    active: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    pid_namespace: bool = False
    private_tmp: bool = False

    def attempt(self, name: str, action, *args) -> bool:
        """Run ``action(*args)``; record ``name`` as active or missing."""
        try:
            action(*args)
        except OSError as e:
            self.missing[name] = e.strerror or str(e)
            return False
        self.active.append(name)
        return True


def _enter_namespaces(layers: Layers, as_root: bool) -> None:
    base = linux.CLONE_NEWNS | linux.CLONE_NEWNET | linux.CLONE_NEWPID
    extra = linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
    if as_root:
        layers.attempt("namespaces (mount, network, pid, ipc, uts)", linux.unshare, base | extra)
        return
    uid, gid = os.getuid(), os.getgid()

    def user_namespace() -> None:
        linux.unshare(linux.CLONE_NEWUSER | base | extra)
        linux.write_id_maps(uid, gid)

    layers.attempt("namespaces (user, mount, network, pid, ipc, uts)", user_namespace)


def _become_namespace_init() -> None:
    """Fork; the parent waits and mirrors the child's exit, the child is pid 1 of the new pid ns."""
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    linux.prctl(linux.PR_SET_PDEATHSIG, 9)


def _closed_ancestor(path: str) -> str | None:
    """The first directory on ``path`` that other users cannot enter, if any."""
    current = "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & stat.S_IXOTH:
            return current
    return None


def python_dirs(extra: Sequence[str] = ()) -> list[str]:
    """Directories the interpreter imports from (and ``extra``), outermost first, nested
    ones dropped."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *extra}
    kept: list[str] = []
    for path in sorted((os.path.realpath(d) for d in dirs if d and os.path.isdir(d)), key=len):
        if not any(path == k or path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def private_covers(interpreter_dirs: list[str] | None = None) -> tuple[set[str], list[str]]:
    """Directories to cover with an empty tmpfs (home directories, and any closed directory
    Python lives under), and the interpreter's directories beneath them to bind back.

    ``interpreter_dirs``: where the workers' interpreter imports from (default: this one's).
    """
    dirs = python_dirs() if interpreter_dirs is None else interpreter_dirs
    covers = {d for d in HIDDEN_DIRS if os.path.isdir(d)}
    covers |= {a for d in dirs if (a := _closed_ancestor(d)) is not None}
    return covers, dirs_under(dirs, covers)


def dirs_under(dirs: Sequence[str], covers: Iterable[str]) -> list[str]:
    """The ``dirs`` that lie beneath one of ``covers``."""
    covers = tuple(covers)
    return [d for d in dirs if any(d.startswith(c + "/") for c in covers)]


def hide_private_dirs() -> None:
    """Cover the private directories with an empty tmpfs, then bind the interpreter's own
    directories back, so programs can import the standard library and installed packages
    but read nobody's files."""
    covers, rebind = private_covers()
    handles = {d: os.open(d, os.O_PATH) for d in rebind}
    try:
        for cover in sorted(covers, key=len):
            linux.mount(
                "tmpfs", cover, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=1m,mode=755"
            )
        for path, fd in handles.items():
            os.makedirs(path, exist_ok=True)
            linux.mount(f"/proc/self/fd/{fd}", path, None, linux.MS_BIND | linux.MS_REC)
    finally:
        for fd in handles.values():
            os.close(fd)


def _mount_private_dirs(layers: Layers, tmpfs_mb: int) -> None:
    if not layers.attempt(
        "private mount propagation", linux.mount, None, "/", None, linux.MS_REC | linux.MS_PRIVATE
    ):
        return
    layers.attempt("home directories hidden", hide_private_dirs)
    layers.attempt("read-only root filesystem", linux.make_tree_read_only, "/")
    flags = linux.MS_NOSUID | linux.MS_NODEV
    mounted = []
    for path in TMPFS_DIRS:
        if os.path.isdir(path):
            try:
                linux.mount("tmpfs", path, "tmpfs", flags, f"size={tmpfs_mb}m,mode=1777")
                mounted.append(path)
            except OSError as e:
                layers.missing[f"private {path}"] = e.strerror or str(e)
    if "/tmp" in mounted:
        layers.active.append(f"private tmpfs on {', '.join(mounted)} ({tmpfs_mb} MiB)")
        layers.private_tmp = True
    if layers.pid_namespace:
        layers.attempt(
            "private /proc",
            linux.mount,
            "proc",
            "/proc",
            "proc",
            linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
        )


def isolate_worker(tmpfs_mb: int) -> Layers:
    """Enter every namespace the kernel allows; on success this process is pid 1 there."""
    layers = Layers()
    as_root = os.geteuid() == 0
    _enter_namespaces(layers, as_root)
    if layers.active:
        _become_namespace_init()
        layers.pid_namespace = os.getpid() == 1
        _mount_private_dirs(layers, tmpfs_mb)
    else:
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)  # orphans come back to us for the sweep
    return layers


def isolated_by_launcher(layers: list[str]) -> Layers:
    """The layers of a worker that a launcher (bubblewrap) has already isolated."""
    return Layers(active=list(layers), pid_namespace=os.getpid() == 1, private_tmp=True)
