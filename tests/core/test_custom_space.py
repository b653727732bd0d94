"""The custom-space example (docs/custom-space.md) runs, and a space with its own grammar file behaves."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from actionspaces import CanonicalAction, ParseError, equivalent

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_space" / "hotbar.py"


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


def test_a_sixth_space_declared_in_one_file_reaches_every_layer():
    """Registered from the example's one declaration, with no other file edited: the parser, the command
    line, the chain's generation grammar, TextActionEnv (through its own controller) and the evaluation."""
    llguidance = pytest.importorskip("llguidance")
    from typer.testing import CliRunner

    import actionspaces as asp
    from actionspaces.cli import app
    from actionspaces.decoding import generation_grammar
    from actionspaces.decoding.grammar import spelled_out_grammar
    from actionspaces.envs import CraftWorld, TextActionEnv
    from actionspaces.evaluation import Answer, play, summarize
    from actionspaces.registry import register_space, registered_controllers, unregister_space

    example = load_example()
    register_space(example.HOTBAR_ENTRY)
    try:
        assert asp.parse("Hotbar: 4").executable.action == example.HotbarAction(slot=4)
        out = CliRunner().invoke(app, ["parse", "Hotbar: 4", "--json"])
        assert out.exit_code == 0 and '"hotbar"' in out.stdout, out.stdout
        # the chain's generation grammar offers the new level, and writes it as its parser reads it
        grammar = generation_grammar("chain", single=True)
        assert '"Hotbar: " hotbar' in grammar.splitlines()[0]
        tokenizer = llguidance.LLTokenizer("byte")
        matcher = llguidance.LLMatcher(tokenizer, llguidance.grammar_from("lark", spelled_out_grammar(grammar)))
        assert matcher.consume_tokens(tokenizer.tokenize_bytes(b"Hotbar: 7")) and matcher.is_accepting()
        # an env executes it through the registered controller, unasked
        assert type(registered_controllers(["hotbar"])["hotbar"]).__name__ == "HotbarController"
        env = TextActionEnv(CraftWorld("mine_block:oak_log", max_ticks=50), max_calls=3)
        assert "hotbar" in env.controllers
        episodes = play([env], [("mine_block:oak_log", 0)], lambda obs: [Answer("Hotbar: 2", 3) for _ in obs])
        assert [t.space for t in episodes[0].turns] == ["hotbar"] * 3
        # and the evaluation counts its share of calls
        summary = summarize(episodes, splits={"mine_block:oak_log": "ID"}, categories={"mine_block:oak_log": "mine"})
        assert summary["ID/all"]["shares"]["hotbar"] == 1.0
    finally:
        unregister_space("hotbar")
    assert "hotbar" not in asp.ChainSpace().spaces
