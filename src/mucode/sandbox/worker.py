"""A warm sandbox worker: one pre-started interpreter that forks a child per program.

Started by the pool as ``python -I -c ...`` with a scrubbed environment. It isolates
itself once (namespaces, read-only root, private /tmp), pre-imports common modules,
then serves jobs from fd 0 and answers on fd 1 (see ``protocol``). Per job it forks;
the child confines itself and runs the harness; the worker owns the clock, kills the
whole process tree at the deadline, and turns what it saw into a verdict.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import signal
import stat
import sys
import time

from mucode.sandbox import confine, feedback, harness, protocol
from mucode.sandbox.namespaces import (
    TMPFS_DIRS,
    Layers,
    isolate_worker,
    isolated_by_launcher,
)
from mucode.sandbox.verdicts import Observed, infra_verdict, judge

PRELOAD = (
    "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string",
    "operator", "copy", "fractions", "decimal", "cmath", "array",
    "typing", "datetime", "hashlib", "json", "sys", "os",
)  # fmt: skip
REPORT_CAP = 16 << 20  # report lines carry the values the tests compare
PRIVATE_WORKDIR = "/tmp/work"
SANDBOX_UID_BASE = 1_500_000_000  # root runs each worker's programs as uid BASE + worker pid


class Worker:
    """Serves jobs; see module docstring."""

    def __init__(self, config: dict) -> None:
        # unique among live workers: our pid before the pid namespace (or bubblewrap's)
        host_pid = config.get("host_pid", os.getpid())
        host_root = os.geteuid() == 0  # before a user namespace makes everyone root
        launched = config.get("launcher_layers")
        self.layers: Layers = (
            isolated_by_launcher(launched)
            if launched
            else isolate_worker(config["tmpfs_mb"], config["view"])
        )
        self.sandbox_uid = SANDBOX_UID_BASE + host_pid if host_root else None
        if self.sandbox_uid is not None:
            self.layers.active.append(f"unprivileged uid {self.sandbox_uid}")
        self.layers.active += [
            "rlimits (cpu, memory, file size, open files, processes)",
            "scrubbed environment",
            *confine.restrict_worker(host_root),
        ]
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pool's; it closes our pipe
        for name in PRELOAD:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        _add_site_builtins()
        if self.layers.private_tmp:  # the work dir is always /tmp/work: set its env once
            os.environ.update(confine.scrubbed_environment(PRIVATE_WORKDIR))
        self._pristine: tuple | None = None  # tmpfs state right after a clean-up
        gc.freeze()  # children must not copy-on-write the whole heap when gc runs

    def hello(self) -> dict:
        """Start-up report for the pool."""
        return {
            "layers": self.layers.active,
            "missing": self.layers.missing,
            "pid_namespace": self.layers.pid_namespace,
            "python": sys.version.split()[0],
        }

    def serve(self, fd_in: int, fd_out: int) -> None:
        """Answer jobs until the pool closes the pipe."""
        protocol.send(fd_out, self.hello())
        while True:
            try:
                job = protocol.receive(fd_in)
            except EOFError:
                return
            protocol.send(fd_out, self.run(job))

    def _workdir(self) -> str:
        if self.layers.private_tmp:
            path = PRIVATE_WORKDIR
            if self._pristine is not None:
                os.chmod(path, 0o700)  # the program owns it and may have changed its mode
                return path
            os.mkdir(path, 0o700)
        else:
            import tempfile

            path = tempfile.mkdtemp(prefix="mucode-")
        if self.sandbox_uid is not None:
            os.chown(path, self.sandbox_uid, self.sandbox_uid)
        return path

    def _tmpfs_state(self) -> tuple:
        """Inodes in use on each private tmpfs, and the work dir's identity."""
        used = tuple(os.statvfs(d).f_files - os.statvfs(d).f_ffree for d in TMPFS_DIRS)
        st = os.lstat(PRIVATE_WORKDIR)
        return used, st.st_ino, stat.S_ISDIR(st.st_mode)

    def _cleanup(self, workdir: str) -> None:
        if not self.layers.private_tmp:
            shutil.rmtree(workdir, ignore_errors=True)
            return
        with contextlib.suppress(OSError):
            if self._pristine is not None and self._tmpfs_state() == self._pristine:
                return  # the run created nothing: keep the empty work dir for the next one
        self._pristine = None
        self._wipe_tmpfs()
        with contextlib.suppress(OSError):
            self._workdir()
            self._pristine = self._tmpfs_state()

    def _wipe_tmpfs(self) -> None:
        """Empty the private tmpfs dirs, but leave the view's mounts in them alone
        (interpreter directories bound under /tmp, and the frames that hold them)."""
        for base in TMPFS_DIRS:
            with contextlib.suppress(OSError), os.scandir(base) as entries:
                device = os.stat(base).st_dev
                for entry in entries:
                    if entry.stat(follow_symlinks=False).st_dev != device:
                        continue  # a mount point: programs cannot make one
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)

    def run(self, job: dict) -> dict:
        """Run one job; always returns a verdict dict."""
        start = time.monotonic()
        try:
            workdir = self._workdir()
        except OSError as e:
            self._cleanup(PRIVATE_WORKDIR)
            return infra_verdict(f"sandbox could not make a work dir: {e}", job)
        nonce = os.urandom(16).hex()
        out_r, out_w = os.pipe()
        rep_r, rep_w = os.pipe()
        hidden_fd = 100 + int.from_bytes(os.urandom(2), "big") % 900  # the child's report fd
        pid = os.fork()
        if pid == 0:
            _child(job, nonce, (out_w, rep_w, hidden_fd), workdir, self.sandbox_uid)
        os.close(out_w)
        os.close(rep_w)
        try:
            out_cap = job["limits"]["output_kb"] * 1024
            seen = _supervise(pid, (out_r, out_cap), rep_r, start + job["limits"]["timeout_s"])
            self._sweep()
            _drain(out_r, seen.output, out_cap)
            _drain(rep_r, seen.report, REPORT_CAP)
        finally:
            os.close(out_r)
            os.close(rep_r)
            with contextlib.suppress(OSError):  # ours: the run is clean if it left nothing else
                os.unlink(os.path.join(workdir, feedback.SOLUTION_FILE))
            self._cleanup(workdir)
        return judge(job, nonce, seen, time.monotonic() - start)

    def _sweep(self) -> None:
        """Kill every process the run left behind, then reap them all."""
        if self.layers.pid_namespace:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # as pid 1: everyone in our namespace but us
        else:
            _kill_orphans()
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return


def _add_site_builtins() -> None:
    """``exit``, ``quit``, ``help``, ``copyright``, ``credits`` and ``license``, which
    ``python3`` gets from its site module (workers start without it: ``-S``)."""
    import site

    site.setquit()
    site.setcopyright()
    site.sethelper()


def _kill_orphans() -> None:
    """Without a pid namespace: kill the children reparented to us (we are a subreaper)."""
    for _ in range(100):
        path = f"/proc/self/task/{os.getpid()}/children"
        try:
            with open(path) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.001)


def _child(job: dict, nonce: str, fds: tuple[int, int, int], workdir: str, uid: int | None) -> None:
    """Forked child: confine, announce, run the harness. Never returns.

    ``fds`` = (output pipe, report pipe, the descriptor the report pipe moves to).
    """
    try:
        if workdir != PRIVATE_WORKDIR:  # no pid namespace or private /tmp: fall back
            os.setpgid(0, 0)  # the sweep kills this group
            os.environ.clear()
            os.environ.update(confine.scrubbed_environment(workdir))
        out_w, rep_w, report_fd = fds
        confine.redirect_fds(out_w, rep_w, report_fd)
        os.chdir(workdir)
        confine.apply_rlimits(job["limits"])
        if uid is not None:
            confine.become_sandbox_user(uid)
        reporter = harness.make_reporter(report_fd, nonce, job["limits"]["feedback_chars"])
        module = harness.main_module(workdir, job)
        reporter.confined()
    except BaseException as e:  # noqa: BLE001 - report any set-up failure, then die
        with contextlib.suppress(OSError):
            os.write(2, f"sandbox set-up failed: {e!r}\n".encode())
        os._exit(120)
    harness.run(job, reporter, module)


def _supervise(pid: int, out: tuple[int, int], rep_r: int, deadline: float) -> Observed:
    """Collect output until the child exits or the deadline passes (then kill it)."""
    seen = Observed()
    out_r, out_cap = out
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        for fd in (pidfd, out_r, rep_r):
            poller.register(fd, select.POLLIN)
        sinks = {out_r: (seen.output, out_cap), rep_r: (seen.report, REPORT_CAP)}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen.timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            events = poller.poll(remaining * 1000)
            if any(fd == pidfd for fd, _ in events):
                break
            for fd, _ in events:
                buf, cap = sinks[fd]
                if not _read_into(fd, buf, cap):
                    poller.unregister(fd)
        _, seen.wait_status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    return seen


def _read_into(fd: int, buf: bytearray, cap: int) -> bool:
    """Read what is there, keeping at most ``cap`` bytes in ``buf``. False at end of file."""
    chunk = os.read(fd, 65536)
    if not chunk:
        return False
    if len(buf) < cap:
        buf.extend(chunk[: cap - len(buf)])
    return True


def _drain(fd: int, buf: bytearray, cap: int) -> None:
    """Read whatever is left without blocking (writers are dead by now)."""
    os.set_blocking(fd, False)
    with contextlib.suppress(BlockingIOError):
        while _read_into(fd, buf, cap):
            pass


def main() -> None:
    """Entry point of the worker process."""
    config = json.loads(sys.argv[1])
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    if config.get("launcher_layers"):  # inside bubblewrap our pid is 1: the pool sends its pid
        config["host_pid"] = protocol.receive(fd_in)["host_pid"]
    worker = Worker(config)
    worker.serve(fd_in, fd_out)
