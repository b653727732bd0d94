"""Check the built sdist and wheel as a user would meet them, then install the wheel into a fresh virtualenv.

    python scripts/check_dist.py [DIST_DIR]

1. The metadata: name, the version of ``src/actionspaces/__init__.py``, the license expression and file,
   the Python requirement and version classifiers, the console script, torch only in extras.
2. The contents: every grammar, the simulator's data, ``py.typed``, in the wheel; the sources, tests and
   license in the sdist.
3. A fresh virtualenv (in a temporary directory this script creates and removes) gets the wheel with no
   extras; there it imports without torch, ``actionspaces --version`` prints the version, and
   ``actionspaces parse`` exits 0 on a valid action and 1 on an invalid one.

Exits non-zero with every problem listed.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = ("raw", "grounding", "motion", "language", "latent")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def source_version() -> str:
    text = (ROOT / "src" / "actionspaces" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if match is None:
        raise SystemExit("no __version__ in src/actionspaces/__init__.py")
    return match.group(1)


def check_wheel(wheel: Path, version: str, problems: list[str]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"actionspaces-{version}.dist-info"
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    required = [f"actionspaces/grammars/{g}.lark" for g in GRAMMARS]
    required += [
        "actionspaces/py.typed",
        "actionspaces/envs/craftworld/data/minecraft-1.16.5.json",
        f"{info}/licenses/LICENSE",
    ]
    problems += [f"wheel lacks {name}" for name in required if name not in names]
    if any(name.startswith(("tests/", "examples/")) for name in names):
        problems.append("wheel carries tests or examples")
    expect = {"Name": "actionspaces", "Version": version, "License-Expression": "Apache-2.0"}
    problems += [f"METADATA {k} is {metadata.get(k)!r}, not {v!r}" for k, v in expect.items() if metadata.get(k) != v]
    if metadata.get("Requires-Python") != ">=3.10":
        problems.append(f"METADATA Requires-Python is {metadata.get('Requires-Python')!r}")
    classifiers = set(metadata.get_all("Classifier") or [])
    problems += [
        f"no classifier for Python {v}" for v in PYTHONS if f"Programming Language :: Python :: {v}" not in classifiers
    ]
    if not metadata.get_all("Author") and not metadata.get_all("Author-email"):
        problems.append("METADATA names no author")
    if "actionspaces = actionspaces.cli:main" not in entry_points:
        problems.append("no actionspaces console script")
    for requirement in metadata.get_all("Requires-Dist") or []:
        if requirement.startswith("torch") and "extra ==" not in requirement:
            problems.append(f"torch is a core dependency: {requirement}")
        if requirement.startswith("torch") and "==" in requirement.split(";")[0]:
            problems.append(f"an extra pins torch exactly: {requirement}")


def check_sdist(sdist: Path, version: str, problems: list[str]) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    required = ["pyproject.toml", "LICENSE", "README.md", "src/actionspaces/__init__.py"]
    required += [f"src/actionspaces/grammars/{g}.lark" for g in GRAMMARS]
    required += ["tests/data/openha_outputs.jsonl"]
    problems += [f"sdist lacks {name}" for name in required if name not in names]


def check_install(wheel: Path, version: str, problems: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="actionspaces-dist-check-") as tmp:
        env_dir = Path(tmp) / "venv"
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        cli = env_dir / "bin" / "actionspaces"
        subprocess.run([python, "-m", "pip", "install", "--quiet", str(wheel)], check=True)

        def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=tmp, check=False)

        probe = run(
            python,
            "-c",
            "import importlib.util, sys; import actionspaces as asp; "
            "assert importlib.util.find_spec('torch') is None, 'torch is installed'; "
            "assert 'torch' not in sys.modules; "
            "assert asp.parse('Action: move(1, 2) and press(w)').ok; print(asp.__version__)",
        )
        if probe.returncode != 0 or probe.stdout.strip() != version:
            problems.append(f"import in a fresh virtualenv failed: {probe.stdout}{probe.stderr}")
        shown = run(cli, "--version")
        if shown.returncode != 0 or shown.stdout.strip() != f"actionspaces {version}":
            problems.append(f"actionspaces --version: rc {shown.returncode}, {shown.stdout!r} {shown.stderr!r}")
        good = run(cli, "parse", "Action: move(19, 0) and press(w)")
        if good.returncode != 0 or "executes raw" not in good.stdout:
            problems.append(f"actionspaces parse (valid): rc {good.returncode}, {good.stdout!r}")
        bad = run(cli, "parse", "Action: press(jump)")
        if bad.returncode != 1 or "unknown key 'jump'" not in bad.stdout:
            problems.append(f"actionspaces parse (invalid): rc {bad.returncode}, {bad.stdout!r}")


def main() -> None:
    dist = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    version = source_version()
    wheels, sdists = sorted(dist.glob("actionspaces-*.whl")), sorted(dist.glob("actionspaces-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist in {dist}, found {[p.name for p in [*wheels, *sdists]]}")
    problems: list[str] = []
    check_wheel(wheels[0], version, problems)
    check_sdist(sdists[0], version, problems)
    if not problems:
        check_install(wheels[0], version, problems)
    if problems:
        print("\n".join(f"dist check: {p}" for p in problems))
        raise SystemExit(1)
    print(f"dist check: {wheels[0].name} and {sdists[0].name} are complete; the wheel installs and runs without torch")


if __name__ == "__main__":
    main()
