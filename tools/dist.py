"""The release artifacts, built and checked as users receive them.

`python tools/dist.py check` (`make dist`; CI and the release workflow): the sdist and the wheel
in build/dist, `twine check`, the wheel's file list, the sdist rebuilding the same wheel, and
`pip install truto-pulumi` from a local package index for the template and every example.
`python tools/dist.py index DIR`: that package index alone (the engine tier's `package_index`).
`python tools/dist.py notes VERSION`: the CHANGELOG.md section of VERSION (the release notes).
Needs the dev extra (build, twine). Dependency wheels are kept in .cache/wheels for reruns.
"""

from __future__ import annotations

import ast
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHEELS = REPO / ".cache" / "wheels"
# The examples by the venv their requirements are installed in (see check_installs).
VENVS = {"plain": ("template", "basic", "fleet", "accounts"), "policy": ("guardrails",)}
# Modules of the test kit (devkit/) that must never land inside the package.
KIT_STEMS = {"engine", "host", "sweep", "acceptance", "props"}
# What a user's index must also serve: `pulumi install` upgrades these in a project's venv.
INSTALLER = ("pip", "setuptools", "wheel")


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command, failing with its output when it fails."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{done.stdout}{done.stderr}")
    return done.stdout


def _clean_tree(dest: Path) -> Path:
    """A copy of the checkout's files (tracked and new, not ignored): no stale build/ or
    egg-info of the working tree can leak into an artifact."""
    files = _run("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=REPO).split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def build(outdir: Path, tree: Path, *only: str) -> list[Path]:
    """`python -m build` of `tree` into `outdir`: the sdist and the wheel built from it, or
    `only="--wheel"` a wheel straight from the tree. The artifacts, sdist first."""
    _run(sys.executable, "-m", "build", *only, "--outdir", outdir, tree)
    return sorted(outdir.glob("*.tar.gz")) + sorted(outdir.glob("*.whl"))


def _members(wheel: Path) -> dict[str, bytes]:
    """A wheel's files and their bytes (zip timestamps are not content: they differ per build)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def wheel_differences(from_sdist: Path, from_tree: Path) -> list[str]:
    """How the wheel built from the sdist differs from the one built from the tree: file names,
    then each file's bytes (RECORD included, whose hashes cover every other file)."""
    a, b = _members(from_sdist), _members(from_tree)
    problems = [f"only in the wheel from the sdist: {n}" for n in sorted(a.keys() - b.keys())]
    problems += [f"missing from the wheel from the sdist: {n}" for n in sorted(b.keys() - a.keys())]
    problems += [f"differs: {n}" for n in sorted(a.keys() & b.keys()) if a[n] != b[n]]
    return problems


def file_list_problems(names: list[str], modules: set[str], dist_info: str) -> list[str]:
    """What is wrong with a wheel's file list: it holds the package's modules (`modules`, the
    tree's), its py.typed and its dist-info, nothing else (no devkit/, tests/, bench/, examples/),
    and no module of the test kit."""
    shipped = {n for n in names if n.startswith("truto_pulumi/")}
    problems = [
        f"not the package's: {n}"
        for n in names
        if not n.startswith(("truto_pulumi/", f"{dist_info}/"))
    ]
    problems += [f"missing: {n}" for n in sorted((modules | {"truto_pulumi/py.typed"}) - shipped)]
    problems += [
        f"not in the tree: {n}" for n in sorted(shipped - modules - {"truto_pulumi/py.typed"})
    ]
    problems += [f"test kit shipped: {n}" for n in shipped if Path(n).stem.lstrip("_") in KIT_STEMS]
    if "truto_pulumi/emulator/__init__.py" not in shipped:
        problems.append("the emulator is missing")
    return problems


def check_wheel(wheel: Path) -> list[str]:
    """The file list of `wheel` against the package's modules in the checkout."""
    names = list(_members(wheel))
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "truto_pulumi").rglob("*.py")}
    name, version = wheel.name.split("-")[:2]
    return file_list_problems(names, modules, f"{name}-{version}.dist-info")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time fills the wheel cache (the engine tier runs two workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def fill_index(index: Path, wheel: Path) -> None:
    """Put in `index` (which holds the artifacts) the wheels pip needs to install `wheel` with
    its `policy` extra, and the installer's own: from .cache/wheels, downloaded there first when
    it lacks one."""
    wanted = [f"{wheel}[policy]", *INSTALLER]
    offline = ["--no-index", "--find-links", str(WHEELS)]
    with _locked(WHEELS.with_suffix(".lock")):
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
        if subprocess.run(
            [*pip, *offline, "-d", str(WHEELS), *wanted], capture_output=True
        ).returncode:
            _run(*pip, "-d", WHEELS, *wanted)
        for ours in WHEELS.glob("truto_pulumi-*"):
            ours.unlink()
        for dependency in WHEELS.glob("*.whl"):
            shutil.copy2(dependency, index)


def requirements_as_users_write_them(text: str) -> str:
    """An example's requirements.txt with its `../..` path (this checkout) replaced by the name a
    user outside the checkout writes."""
    return re.sub(r"(?m)^\.\./\.\.(\[[a-z,]+\])?$", r"truto-pulumi\1", text)


def imported_modules(source: str) -> list[str]:
    """The modules a program's top level imports (not `__future__`)."""
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            names.append(node.module)
    return names


# Run by the example's venv in the example's folder (its own modules, e.g. fleet.py, beside it):
# the modules import, truto_pulumi comes from site-packages at the built version with py.typed,
# and neither the emulator's web stack nor the dev kit came along.
_PROBE = """
import importlib, importlib.metadata, importlib.util, pathlib, sys
version, modules = sys.argv[1], sys.argv[2:]
for module in modules:
    importlib.import_module(module)
import truto_pulumi
package = pathlib.Path(truto_pulumi.__file__).parent
assert "site-packages" in str(package), package
installed = importlib.metadata.version("truto-pulumi")
assert installed == version, f"installed {installed}, built {version}"
assert (package / "py.typed").is_file(), "py.typed missing"
assert importlib.util.find_spec("starlette") is None, "starlette must not be a runtime dependency"
assert importlib.util.find_spec("devkit") is None, "the dev kit (devkit/) must not ship"
"""


def check_installs(index: Path, version: str, scratch: Path) -> list[str]:
    """Each example's requirements, as a user writes them, installed from `index` alone into a
    fresh venv, then what its __main__.py imports. The examples without the policy extra share
    one venv (all their requirements files in one install: each resolves if together they do);
    guardrails has its own, so that the others cannot lean on what the extra brings."""
    lines = []
    for group, examples in VENVS.items():
        venv, requirements = scratch / group, list[str | Path]()
        _run(sys.executable, "-m", "venv", "--without-pip", venv)
        for example in examples:
            text = (REPO / "examples" / example / "requirements.txt").read_text()
            (scratch / f"{example}.txt").write_text(requirements_as_users_write_them(text))
            requirements += ["-r", scratch / f"{example}.txt"]
        pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python"]
        _run(*pip, "install", "--quiet", "--no-index", "--find-links", index, *requirements)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        for example in examples:
            folder = REPO / "examples" / example
            modules = imported_modules((folder / "__main__.py").read_text())
            _run(venv / "bin" / "python", "-c", _PROBE, version, *modules, cwd=folder, env=env)
            lines.append(f"{example}: {' '.join(modules)}")
    return lines


def release_notes(changelog: str, version: str) -> str:
    """The body of the `## [version] - date` section of a Keep a Changelog file."""
    match = re.search(
        rf"(?ms)^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |^\[[^\]]+\]: |\Z)", changelog
    )
    body = match.group(1).strip() if match else ""
    if not body:
        sys.exit(f"CHANGELOG.md has no section (or an empty one) for {version}")
    return body + "\n"


def check() -> None:
    """Everything CI checks of the artifacts; leaves the sdist and the wheel in build/dist."""
    dist = REPO / "build" / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        tree = _clean_tree(scratch / "tree")
        sdist, wheel = build(dist, tree)
        (direct,) = build(scratch / "direct", tree, "--wheel")
        _run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)
        problems = check_wheel(wheel) + wheel_differences(wheel, direct)
        if problems:
            sys.exit("the wheel is wrong:\n  " + "\n  ".join(problems))
        index = scratch / "index"
        index.mkdir()
        shutil.copy2(sdist, index)
        shutil.copy2(wheel, index)
        fill_index(index, wheel)
        installed = check_installs(index, wheel.name.split("-")[1], scratch)
    print(f"dist: {sdist.name}, {wheel.name} ({len(_members(wheel))} files): twine check passes,")
    print("  the file list is the package's, the sdist rebuilds the same wheel; installed from a")
    print("  local index, each in a fresh venv, and imported:", "; ".join(installed))


def main(argv: list[str]) -> None:
    """`check`, `index DIR` or `notes VERSION`."""
    if argv[:1] == ["check"] and len(argv) == 1:
        check()
    elif argv[:1] == ["index"] and len(argv) == 2:
        index = Path(argv[1])
        with tempfile.TemporaryDirectory() as tmp:
            _, wheel = build(index, _clean_tree(Path(tmp)))
        fill_index(index, wheel)
    elif argv[:1] == ["notes"] and len(argv) == 2:
        sys.stdout.write(release_notes((REPO / "CHANGELOG.md").read_text(), argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
