"""The space registry: one home for the spaces' facts; custom spaces reach asp.parse and the CLI."""

import importlib.util
import json
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

import actionspaces as asp
from actionspaces import ActionSpace, ChainSpace, RawSpace, registry
from actionspaces.cli import app
from actionspaces.registry import SpaceEntry, register_space, unregister_space

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_space" / "hotbar.py"


@pytest.fixture
def hotbar_space():
    spec = importlib.util.spec_from_file_location("hotbar_registry_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HotbarSpace


@pytest.fixture
def clean_registry():
    """Whatever a test registers is removed afterwards."""
    before = dict(registry._ENTRIES)
    yield
    for name in list(registry._ENTRIES):
        if name not in before:
            unregister_space(name)


def test_builtin_facts_live_in_one_place():
    assert [e.name for e in registry.registered_spaces()] == ["raw", "grounding", "motion", "language", "latent"]
    assert registry.execution_order() == ("raw", "latent", "motion", "grounding", "language")
    assert registry.text_order() == ("language", "grounding", "motion", "latent", "raw")
    assert {e.name: e.tag for e in registry.registered_spaces()}["language"] == "skill"
    assert ChainSpace().execution_order == registry.execution_order()
    assert ChainSpace().tags == {"raw": "raw", "grounding": "grounding", "motion": "motion", "language": "skill",
                                 "latent": "latent"}  # fmt: skip


def test_bad_registrations_are_refused(hotbar_space, clean_registry):
    with pytest.raises(ValueError, match="registered already"):
        register_space(SpaceEntry(RawSpace, execution_rank=0, text_order=0))
    with pytest.raises(TypeError, match="SpaceEntry"):
        register_space(hotbar_space)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ActionSpace subclass"):
        SpaceEntry(str, execution_rank=0, text_order=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tag 'raw'"):
        register_space(SpaceEntry(hotbar_space, execution_rank=5, text_order=35, tag="raw"))
    with pytest.raises(KeyError, match="unknown action space 'nope'"):
        registry.space_entry("nope")


def test_a_registered_space_reaches_parse_and_the_cli(hotbar_space, clean_registry):
    assert not asp.parse("Hotbar: 4").ok
    register_space(SpaceEntry(hotbar_space, execution_rank=5, text_order=35))
    chain = asp.parse("Hotbar: 4\nAction: move(0, 0) and press(4)")
    assert chain.ok and chain.spaces == ("hotbar", "raw") and chain.executable.space == "raw"
    assert asp.parse("<hotbar>4</hotbar>").executable.space == "hotbar"
    out = CliRunner().invoke(app, ["parse", "--json", "Hotbar: 7"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["env_action"]["hotbar.7"] == 1
    assert CliRunner().invoke(app, ["grammar", "hotbar"]).exit_code == 0
    unregister_space("hotbar")
    assert not asp.parse("Hotbar: 4").ok  # the default chain follows the registry


def test_entry_points_load_through_importlib_metadata(tmp_path, monkeypatch, clean_registry):
    (tmp_path / "plug_space.py").write_text(
        textwrap.dedent(
            f"""
            import importlib.util
            spec = importlib.util.spec_from_file_location("plug_hotbar", {str(EXAMPLE)!r})
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            from actionspaces.registry import SpaceEntry
            ENTRY = SpaceEntry(module.HotbarSpace, execution_rank=5, text_order=35)
            NOT_AN_ENTRY = 42
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [metadata.EntryPoint("hotbar", "plug_space:ENTRY", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: points if group == points[0].group else [])
    monkeypatch.setitem(registry._state, "entry_points_loaded", False)
    assert "hotbar" in [e.name for e in registry.registered_spaces()]
    assert asp.parse("Hotbar: 2").ok
    unregister_space("hotbar")
    points[:] = [metadata.EntryPoint("bad", "plug_space:NOT_AN_ENTRY", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setitem(registry._state, "entry_points_loaded", False)
    with pytest.raises(TypeError, match="must load a SpaceEntry, got int"):
        registry.registered_spaces()
    points[:] = [metadata.EntryPoint("gone", "no_such_module_here:X", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setitem(registry._state, "entry_points_loaded", False)
    with pytest.raises(ImportError, match=r"'gone'.*failed to load"):
        registry.registered_spaces()
    monkeypatch.setitem(registry._state, "entry_points_loaded", True)
    sys.modules.pop("plug_space", None)


def test_chain_space_is_a_composite_action_space():
    cs = ChainSpace()
    assert isinstance(cs, ActionSpace) and cs.name == "chain"
    sampled = cs.sample(3)
    assert isinstance(sampled, asp.Chain) and sampled.ok and cs.contains(sampled)
    assert cs.parse(cs.render(sampled)) == sampled
    assert not cs.contains(cs.parse("Action: move(x)")) and not cs.contains("Action: no_op")
    assert "press" in cs.grammar and "Grounding:" in cs.grammar
    with pytest.raises(TypeError, match="leaf ActionSpace"):
        ChainSpace([ChainSpace()])


def test_hooks_are_public_and_declared_on_action_space():
    for hook in ("transformer", "build", "fast_parse", "generation_rules"):
        assert hasattr(ActionSpace, hook)
    # the built-ins declare their generation grammars through the same public hook as a custom space
    for entry in registry.registered_spaces():
        rules = entry.create().generation_rules()
        assert isinstance(rules, str) and rules.startswith(f"{entry.name}:"), entry.name
