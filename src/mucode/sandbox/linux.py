"""Thin ctypes wrappers over the Linux calls the sandbox needs (Python 3.10 lacks most).

Every wrapper raises ``OSError`` with the real errno, so callers can record which
isolation layer the kernel refused and carry on with the ones it allows.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36

_MNT_DETACH = 2

_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_SYS_MOUNT_SETATTR = 442  # same number on every architecture (unified syscall table)
# pivot_root predates the unified table: its number depends on the architecture
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "loongarch64": 41,
                   "ppc64le": 203, "ppc64": 203, "s390x": 217, "i686": 217,
                   "armv7l": 218}  # fmt: skip
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_CAP_LAST_CAP_FILE = "/proc/sys/kernel/cap_last_cap"

# dlopen(NULL): the interpreter's own libc. (ctypes.util would import subprocess and with
# it threading, whose fork hook makes every sandbox fork ~130 page faults dearer.)
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    """Move this process into new namespaces (``unshare(2)``)."""
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    """``mount(2)``."""
    args = [s.encode() if s is not None else None for s in (source, target, fstype)]
    _check(
        _libc.mount(args[0], args[1], args[2], ctypes.c_ulong(flags), data.encode() or None),
        f"mount {target}",
    )


def set_read_only(path: str, read_only: bool = True, recursive: bool = False) -> None:
    """Set (or clear) the read-only flag of the mount at ``path``, and with ``recursive``
    of every mount beneath it, in this mount namespace (``mount_setattr``, Linux >= 5.12)."""
    change = (_MOUNT_ATTR_RDONLY, 0) if read_only else (0, _MOUNT_ATTR_RDONLY)
    attr = struct.pack("QQQQ", *change, 0, 0)  # struct mount_attr: set, clr, propagation, userns
    buf = ctypes.create_string_buffer(attr, len(attr))
    _check(
        _libc.syscall(
            ctypes.c_long(_SYS_MOUNT_SETATTR),
            ctypes.c_int(_AT_FDCWD),
            path.encode(),
            ctypes.c_uint(_AT_RECURSIVE if recursive else 0),
            buf,
            ctypes.c_size_t(len(attr)),
        ),
        "mount_setattr",
    )


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)``: ``new_root`` (a mount point) becomes the root, the old one moves
    to ``put_old``."""
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown on {os.uname().machine}")
    _check(_libc.syscall(ctypes.c_long(number), new_root.encode(), put_old.encode()), "pivot_root")


def unmount(path: str) -> None:
    """Detach the mount at ``path`` (``umount2`` with ``MNT_DETACH``)."""
    _check(_libc.umount2(path.encode(), ctypes.c_int(_MNT_DETACH)), f"umount {path}")


def prctl(option: int, arg: int = 0) -> None:
    """``prctl(2)`` with one argument."""
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def drop_all_capabilities() -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets."""
    with open(_CAP_LAST_CAP_FILE) as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError:
            break  # without CAP_SETPCAP the bounding set cannot shrink; capset below still runs
    header = struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two zeroed __user_cap_data_struct
    _check(_libc.capset(header, data), "capset")


def write_id_maps(uid: int, gid: int) -> None:
    """Map root inside a fresh user namespace to ``uid``/``gid`` outside it."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")
