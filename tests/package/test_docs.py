"""Every code block of the docs and the README is checked: ``>>>`` examples (and the docstrings') run."""

import doctest
import functools
import importlib
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import actionspaces

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
MODULES = sorted(m.name for m in pkgutil.walk_packages(actionspaces.__path__, "actionspaces."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples(page):
    result = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS, verbose=False)
    assert result.failed == 0


#: Modules that import a package of their own venv (make test-verl runs them there).
NEEDS = {"actionspaces.integrations.verl_agent": "verl"}


@pytest.mark.parametrize("name", ["actionspaces", *MODULES])
def test_docstring_examples(name):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.failed == 0


def test_docs_exist_for_every_space():
    for space in ("raw", "grounding", "motion", "language", "latent", "chain"):
        assert (ROOT / "docs" / "spaces" / f"{space}.md").is_file()


# ------------------------------------------------------------------------------------------------------
# Every other code block. ``python`` blocks are doctests (above) or include a file a test runs;
# ``console`` blocks are run and their output compared; ``bash`` blocks are commands: the cheap ones run,
# the long ones (training, benchmarks: minutes to hours) are checked against their own ``--help`` (every
# option used must exist) and are themselves run by tests/training/test_crossha_train.py and test_benchmarks.py.
# ``text`` and ``lark`` blocks are output, layouts and grammars, not code.
# ------------------------------------------------------------------------------------------------------

FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
NOT_CODE = {"text", "lark"}
BIN = Path(sys.executable).parent


def blocks(lang):
    return [
        pytest.param(page, m["body"], id=f"{page.relative_to(ROOT)}:{m.start()}")
        for page in PAGES
        for m in FENCE.finditer(page.read_text(encoding="utf-8"))
        if m["lang"] == lang
    ]


def test_every_code_block_has_a_known_kind():
    kinds = {m["lang"] for page in PAGES for m in FENCE.finditer(page.read_text(encoding="utf-8"))}
    assert kinds <= {"python", "console", "bash", "toml", "yaml"} | NOT_CODE, kinds


@pytest.mark.parametrize(("page", "body"), blocks("toml"))
def test_toml_blocks_parse(page, body):
    tomllib = pytest.importorskip("tomllib")
    assert tomllib.loads(body)


@pytest.mark.parametrize(("page", "body"), blocks("yaml"))
def test_yaml_blocks_parse(page, body):
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(body)


@pytest.mark.parametrize(("page", "body"), blocks("python"))
def test_python_blocks_are_doctests_or_included_files(page, body):
    included = re.findall(r'^--8<-- "(.+)"$', body, re.MULTILINE)
    assert ">>>" in body or included, f"a python block of {page.name} that nothing executes"
    for path in included:
        assert (ROOT / path).is_file() and (ROOT / path).suffix == ".py"


@pytest.mark.parametrize(("page", "body"), blocks("console"))
def test_console_blocks_print_what_they_show(page, body):
    for command, expected in re.findall(r"^\$ (.+)\n((?:(?!\$ ).*\n)*)", body, re.MULTILINE):
        argv = shlex.split(command)
        assert argv[0] == "actionspaces", f"only actionspaces commands run in console blocks: {command}"
        out = subprocess.run(
            [str(BIN / "actionspaces"), *argv[1:]], capture_output=True, text=True, cwd=ROOT, check=False
        )
        assert out.returncode in (0, 1), out.stderr
        if expected.strip():
            assert out.stdout.rstrip() == expected.rstrip(), command
        else:
            assert out.stdout.strip(), command


def _check_command(argv):
    if argv[0] == "make":
        for target in argv[1:]:
            dry = subprocess.run(["make", "-n", target], capture_output=True, text=True, cwd=ROOT, check=False)
            assert dry.returncode == 0, f"make {target}: {dry.stderr}"
        return
    if argv[0] == "actionspaces":
        argv = [str(BIN / "actionspaces"), *argv[1:]]
        assert subprocess.run([*argv[:2], "--help"], capture_output=True, cwd=ROOT, check=False).returncode == 0
        return
    if argv[0] == "pip":
        _check_pip(argv)
        return
    if argv[0] in ("git", "cd"):  # git clone URL; cd into it
        assert argv[0] == "cd" or argv[1] == "clone", argv
        return
    if argv[:2] == ["accelerate", "launch"] or argv[0] == "torchrun":  # launcher options, the script, its options
        script = next(i for i, a in enumerate(argv) if a.endswith(".py"))
        argv = ["python", *argv[script:]]
    assert argv[0].endswith("python"), f"unknown command in a bash block: {argv}"
    script = ROOT / argv[1]
    assert script.is_file(), f"{argv[1]} does not exist"
    help_text = _help(script)
    assert help_text.returncode == 0, help_text.stderr
    for option in (a.split("=")[0] for a in argv[2:] if a.startswith("--")):
        assert option in help_text.stdout, f"{argv[1]} has no option {option}"


@functools.cache
def _help(script: Path) -> subprocess.CompletedProcess[str]:
    """``script --help``, run once per script (the pages name the trainer in many blocks; each run imports torch)."""
    return subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"COLUMNS": "200", "PATH": str(BIN), "HF_HUB_OFFLINE": "1"},
        check=False,
    )


def _check_pip(argv):
    """``pip install`` of this package: from the index, the clone (``.``) or a built wheel, with real extras."""
    tomllib = pytest.importorskip("tomllib")
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    assert argv[1] == "install", argv
    targets = [a for a in argv[2:] if not a.startswith("-")]
    assert targets, argv
    for target in targets:
        m = re.fullmatch(r"(actionspaces|\.|dist/actionspaces-\*\.whl)(?:\[([\w,]+)\])?", target)
        assert m, f"pip installs something other than actionspaces: {target}"
        assert set((m.group(2) or "").split(",")) - {""} <= extras, f"unknown extra in {target}"


@pytest.mark.parametrize(("page", "body"), blocks("bash"))
def test_bash_blocks_are_valid_commands(page, body):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for line in body.splitlines():
        command = line.split("#", 1)[0].strip()
        if command:
            _check_command(shlex.split(command))
