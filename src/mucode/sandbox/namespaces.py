"""Worker-side isolation: namespaces, then an allow-list view of the file system as root.

The worker calls :func:`isolate_worker` once at start-up. It tries the strongest layers
the kernel allows and records each one it got (and why it missed the others), so
``mucode sandbox info`` can say exactly what protects the machine. The view arrives from
the pool as a list of steps (see ``view``): the worker assembles them on a fresh tmpfs,
makes that its root and detaches the host's tree, so programs see only what the steps name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from mucode.sandbox import linux

TMPFS_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # the world-writable places on a normal system
VIEW_LAYER = "allow-list file system view"
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
              "stderr": "/proc/self/fd/2"}  # fmt: skip
_NEW_ROOT = "/tmp"  # where the view is assembled; its sources are opened before it is covered
_SMALL_TMPFS = "size=1m,mode=755"


class Kind(str, Enum):
    """What one step of a view puts at its path."""

    DIR = "dir"  # an empty directory, on the way to what lies below it
    SYMLINK = "symlink"  # a symbolic link to the step's argument
    BIND = "bind"  # the host's file or directory named by the argument, read-only
    TMPFS = "tmpfs"  # a private, writable tmpfs, wiped after every run that wrote to it
    FRAME = "frame"  # a small tmpfs inside a TMPFS dir, holding binds; read-only once built
    MASK = "mask"  # hides a file or directory inside a BIND: empty and read-only
    PROC = "proc"  # a fresh /proc of the worker's pid namespace
    DEV = "dev"  # a minimal /dev: the DEVICES and the standard descriptor links


Step = tuple[str, str, str]  # (kind, path, argument): JSON, so the pool can send it


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


def _make_dir(path: str) -> None:
    if not os.path.isdir(path):
        os.mkdir(path)
        os.chmod(path, 0o755)  # whatever the umask: the sandbox uid must get through


def _mount_tmpfs(path: str, options: str, flags: int = linux.MS_NOSUID | linux.MS_NODEV) -> None:
    _make_dir(path)
    linux.mount("tmpfs", path, "tmpfs", flags, options)


def _bind(source_fd: int, target: str) -> None:
    """Bind the host file or directory open as ``source_fd`` (with what is mounted below it)."""
    if stat.S_ISDIR(os.fstat(source_fd).st_mode):
        _make_dir(target)
    elif not os.path.exists(target):
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    linux.mount(f"/proc/self/fd/{source_fd}", target, None, linux.MS_BIND | linux.MS_REC)


def _mask(target: str, sources: dict[str, int]) -> None:
    """An empty tmpfs over a directory, /dev/null over a file (made read-only later)."""
    if os.path.isdir(target):
        _mount_tmpfs(target, _SMALL_TMPFS)
    else:
        _bind(sources["/dev/null"], target)


def _make_dev(target: str, sources: dict[str, int]) -> None:
    """A tmpfs with the host's harmless device nodes bound in, and the descriptor links."""
    _mount_tmpfs(target, _SMALL_TMPFS, linux.MS_NOSUID | linux.MS_NOEXEC)
    for name in DEVICES:
        if f"/dev/{name}" in sources:
            _bind(sources[f"/dev/{name}"], f"{target}/{name}")
    for name, link in _DEV_LINKS.items():
        os.symlink(link, f"{target}/{name}")


def _apply(step: Step, sources: dict[str, int], tmpfs_mb: int, layers: Layers) -> None:
    """Put one step of the view into the new root (assembled at _NEW_ROOT)."""
    kind, path, argument = step
    target = _NEW_ROOT + path
    if kind == Kind.DIR:
        _make_dir(target)
    elif kind == Kind.SYMLINK:
        os.symlink(argument, target)
    elif kind == Kind.BIND:
        _bind(sources[argument], target)
    elif kind == Kind.TMPFS:
        _mount_tmpfs(target, f"size={tmpfs_mb}m,mode=1777")
    elif kind == Kind.FRAME:
        _mount_tmpfs(target, _SMALL_TMPFS)
    elif kind == Kind.MASK:
        _mask(target, sources)
    elif kind == Kind.PROC:
        _make_dir(target)
        flags = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC
        layers.attempt("private /proc", linux.mount, "proc", target, "proc", flags)
    elif kind == Kind.DEV:
        _make_dev(target, sources)
        layers.active.append("minimal /dev")


def _open_sources(steps: Sequence[Step]) -> dict[str, int]:
    """O_PATH descriptors of every host path the view binds, opened before anything is
    mounted over the host tree (a source may lie under _NEW_ROOT)."""
    paths = {arg for kind, _, arg in steps if kind == Kind.BIND}
    paths |= {f"/dev/{name}" for name in DEVICES if os.path.exists(f"/dev/{name}")}
    sources: dict[str, int] = {}
    try:
        for path in sorted(paths):
            sources[path] = os.open(path, os.O_PATH)
    except OSError:
        _close_all(sources.values())
        raise
    return sources


def _close_all(fds: Iterable[int]) -> None:
    """Close descriptors onto the host's tree: a program must never inherit one."""
    for fd in fds:
        os.close(fd)


def enter_view(steps: Sequence[Step], tmpfs_mb: int, layers: Layers) -> None:
    """Assemble the view on a fresh tmpfs and pivot into it; the host's tree is detached."""
    sources = _open_sources(steps)
    try:
        linux.mount("tmpfs", _NEW_ROOT, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, _SMALL_TMPFS)
        try:
            for step in steps:
                _apply(step, sources, tmpfs_mb, layers)
            os.chdir(_NEW_ROOT)
            linux.pivot_root(".", ".")  # stacks the old root on top of the new one
        except OSError:
            os.chdir("/")
            linux.unmount(_NEW_ROOT)
            raise
    finally:
        _close_all(sources.values())
    try:
        linux.unmount(".")  # the old root, and every host mount beneath it
    except OSError as e:  # the host tree would stay visible: better no worker at all
        raise RuntimeError(f"could not detach the host's file system: {e}") from e
    os.chdir("/")


def _make_read_only() -> None:
    """Every mount read-only, except /proc and the private tmpfs dirs themselves (not what
    is mounted inside them: interpreter directories bound under /tmp stay read-only)."""
    linux.set_read_only("/", recursive=True)
    for path in ("/proc", *TMPFS_DIRS):
        linux.set_read_only(path, read_only=False)


def _use_view(layers: Layers, tmpfs_mb: int, steps: Sequence[Step]) -> bool:
    """The allow-list view, read-only but for the private tmpfs dirs; False if it failed."""
    parts = Layers()  # the view's own layers (/proc, /dev) count only if the whole view does
    if not layers.attempt(VIEW_LAYER, enter_view, steps, tmpfs_mb, parts):
        return False
    layers.active += parts.active
    layers.missing.update(parts.missing)
    layers.private_tmp = True
    layers.active.append(f"private tmpfs on {', '.join(TMPFS_DIRS)} ({tmpfs_mb} MiB)")
    layers.attempt("read-only root filesystem", _make_read_only)
    return True


def _use_host_tree(layers: Layers, tmpfs_mb: int) -> None:
    """Without the view: the host's tree read-only, private tmpfs dirs, a fresh /proc."""
    layers.attempt("read-only root filesystem", linux.set_read_only, "/", True, True)
    mounted = []
    for path in TMPFS_DIRS:
        if os.path.isdir(path):
            try:
                _mount_tmpfs(path, f"size={tmpfs_mb}m,mode=1777")
                mounted.append(path)
            except OSError as e:
                layers.missing[f"private {path}"] = e.strerror or str(e)
    if "/tmp" in mounted:
        layers.active.append(f"private tmpfs on {', '.join(mounted)} ({tmpfs_mb} MiB)")
        layers.private_tmp = True
    if layers.pid_namespace:
        flags = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC
        layers.attempt("private /proc", linux.mount, "proc", "/proc", "proc", flags)


def _mount_private_dirs(layers: Layers, tmpfs_mb: int, steps: Sequence[Step]) -> None:
    if not layers.attempt(
        "private mount propagation", linux.mount, None, "/", None, linux.MS_REC | linux.MS_PRIVATE
    ):
        return
    if not _use_view(layers, tmpfs_mb, steps):
        _use_host_tree(layers, tmpfs_mb)


def isolate_worker(tmpfs_mb: int, steps: Sequence[Step]) -> Layers:
    """Enter every namespace the kernel allows and the view ``steps`` describe; on success
    this process is pid 1 there."""
    layers = Layers()
    as_root = os.geteuid() == 0
    _enter_namespaces(layers, as_root)
    if layers.active:
        _become_namespace_init()
        layers.pid_namespace = os.getpid() == 1
        _mount_private_dirs(layers, tmpfs_mb, steps)
    else:
        layers.missing[VIEW_LAYER] = "needs a mount namespace"
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)  # orphans come back to us for the sweep
    return layers


def isolated_by_launcher(layers: list[str]) -> Layers:
    """The layers of a worker that a launcher (bubblewrap) has already isolated."""
    return Layers(active=list(layers), pid_namespace=os.getpid() == 1, private_tmp=True)
