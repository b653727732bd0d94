"""Every ``>>>`` example in the docs, the README and the docstrings is executed."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import actionspaces

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
MODULES = sorted(m.name for m in pkgutil.walk_packages(actionspaces.__path__, "actionspaces."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples(page):
    result = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS, verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["actionspaces", *MODULES])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.failed == 0


def test_docs_exist_for_every_space():
    for space in ("raw", "grounding", "motion", "language", "latent", "chain"):
        assert (ROOT / "docs" / "spaces" / f"{space}.md").is_file()
