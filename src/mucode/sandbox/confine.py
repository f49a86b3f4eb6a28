"""Child-side confinement, applied after fork and before any untrusted code runs."""

from __future__ import annotations

import os
import resource

from mucode.sandbox import linux

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
_MIB = 1024 * 1024


def scrubbed_environment(home: str) -> dict[str, str]:
    """The only environment a program sees: no tokens, keys or proxies from the parent."""
    return {
        "PATH": SAFE_PATH,
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def redirect_fds(out_fd: int, report_fd: int, hidden: int) -> None:
    """stdin from /dev/null, stdout+stderr to ``out_fd``; every other fd closed.

    The report pipe moves to descriptor ``hidden`` (the worker picks a random high one).
    """
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(report_fd, hidden, inheritable=False)
    os.closerange(3, hidden)
    os.closerange(hidden + 1, 65536)


def apply_rlimits(limits: dict) -> None:
    """CPU, memory, file size, open files, processes; no core dumps."""
    cpu = limits["cpu_s"]
    pairs = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_AS: (limits["memory_mb"] * _MIB,) * 2,
        resource.RLIMIT_FSIZE: (limits["file_size_mb"] * _MIB,) * 2,
        resource.RLIMIT_NOFILE: (limits["open_files"],) * 2,
        resource.RLIMIT_NPROC: (limits["processes"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, value in pairs.items():
        resource.setrlimit(which, value)


def become_sandbox_user(sandbox_uid: int) -> None:
    """As root: become an unprivileged uid, so RLIMIT_NPROC binds and capabilities go."""
    os.setgroups([])
    os.setresgid(sandbox_uid, sandbox_uid, sandbox_uid)
    os.setresuid(sandbox_uid, sandbox_uid, sandbox_uid)


def restrict_worker(host_root: bool) -> list[str]:
    """Once per worker, inherited by every child: no privilege gain through exec, and
    (inside a user namespace, where the worker needs no privilege after set-up) no
    capabilities. Returns the names of the layers applied."""
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    layers = ["no new privileges"]
    if not host_root and os.geteuid() == 0:  # root of our own user namespace
        linux.drop_all_capabilities()
        layers.append("all capabilities dropped")
    return layers
