"""The custom-space example (docs/custom-space.md) runs, and a space with its own grammar file behaves."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from actionspaces import CanonicalAction, ParseError, equivalent

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_space" / "hotbar.py"


def load_example():
    spec = importlib.util.spec_from_file_location("hotbar_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_end_to_end():
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True)
    assert "all work" in out.stdout
    assert "hotbar slot 12 is not 1..9" in out.stdout


def test_a_custom_space_reports_errors_at_their_position():
    space = load_example().HotbarSpace()
    with pytest.raises(ParseError) as err:
        space.parse("Hotbar: slot x")
    assert err.value.position == len("Hotbar: slot ")
    assert space.canonicalize(space.parse("slot 9")) == CanonicalAction(buttons={"hotbar.9"})


def test_a_missing_grammar_file_is_named(tmp_path):
    module = load_example()

    class Broken(module.HotbarSpace):
        grammar_path = tmp_path / "missing.lark"

    with pytest.raises(FileNotFoundError, match=r"missing\.lark"):
        _ = Broken().grammar


def test_equivalent_refuses_what_is_not_a_canonical_action():
    with pytest.raises(TypeError, match="predicted must be a CanonicalAction"):
        equivalent("Action: move(0, 0)", CanonicalAction())
