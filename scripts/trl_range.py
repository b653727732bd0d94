"""Run the TRL tests on the lowest and the highest TRL that ``pyproject.toml`` admits (``make test-trl-range``).

The range is read from the ``trl`` extra; its ends are the oldest and the newest release on the package
index inside it. Each end is installed alone (``pip install --no-deps --target .venv-trl/<version>``)
and put first on ``PYTHONPATH`` over the project's venv, so everything else is the venv's. A failure at
either end fails the run: the range then claims a TRL that does not work.

Usage: ``python scripts/trl_range.py`` (from the repository root, with the project's venv).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
TESTS = [f"tests/integrations/{name}.py" for name in ("test_integration_trl", "test_trl_data", "test_trl_multiturn",
                                                      "test_trl_env")]  # fmt: skip


def admitted() -> Requirement:
    """The ``trl`` requirement of the ``trl`` extra."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    found = [Requirement(r) for r in extras["trl"] if Requirement(r).name == "trl"]
    if len(found) != 1:
        sys.exit(f"pyproject.toml's trl extra must name trl once, got {extras['trl']}")
    return found[0]


def released() -> list[Version]:
    """Every TRL release on the package index (``pip index versions``)."""
    out = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "trl"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    line = next((ln for ln in out.splitlines() if ln.startswith("Available versions:")), None)
    if line is None:
        sys.exit(f"pip index versions trl printed no versions:\n{out}")
    return [Version(v) for v in re.split(r",\s*", line.partition(":")[2].strip())]


def run_at(version: Version) -> int:
    """Install ``version`` alone under .venv-trl/ and run the TRL tests with it first on the path."""
    target = ROOT / ".venv-trl" / str(version)
    if not (target / "trl").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                        f"trl=={version}"], check=True)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))}
    seen = subprocess.run([sys.executable, "-c", "import trl; print(trl.__version__)"], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    if Version(seen) != version:
        sys.exit(f"installed TRL {version} under {target}, but Python imports {seen}")
    print(f"== TRL {version}: {' '.join(TESTS)}", flush=True)
    tests = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "", *TESTS]  # slow ones too
    return subprocess.run(tests, env=env, cwd=ROOT, check=False).returncode


def main() -> None:
    requirement = admitted()
    inside = sorted(v for v in released() if requirement.specifier.contains(v))
    if not inside:
        sys.exit(f"no TRL release satisfies {requirement}")
    ends = sorted({inside[0], inside[-1]})
    print(f"{requirement}: {len(inside)} releases admitted, testing {', '.join(map(str, ends))}", flush=True)
    failed = [str(v) for v in ends if run_at(v) != 0]
    if failed:
        sys.exit(f"the TRL tests fail on {', '.join(failed)}, which {requirement} admits")
    print(f"TRL tests pass at both ends of {requirement}")


if __name__ == "__main__":
    main()
