import subprocess
import sys
from importlib import resources

import actionspaces
from actionspaces import ActionSpace, ChainSpace
from actionspaces.chain import default_spaces
from actionspaces.space import GRAMMAR_LOADER


def test_core_import_pulls_no_torch_or_transformers():
    code = "import sys, actionspaces; actionspaces.parse('Action: no_op'); print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api():
    for name in [
        "ActionSpace", "ParseError", "CanonicalAction", "RawSpace", "GroundingSpace", "MotionSpace",
        "LanguageSpace", "LatentSpace", "ChainSpace", "parse", "equivalent", "VPTTokenizer", "CameraQuantizer",
    ]:  # fmt: skip
        assert name in actionspaces.__all__ and hasattr(actionspaces, name)


def test_grammars_are_lark_files_shipped_with_the_package():
    files = {p.name for p in resources.files("actionspaces.grammars").iterdir()}
    for space in default_spaces():
        assert f"{space.grammar_name}.lark" in files
        assert space.grammar.strip()
        assert isinstance(space, ActionSpace)
    assert (resources.files("actionspaces") / "py.typed").is_file()


def test_a_space_grammar_compiles_on_its_own_with_the_package_loader():
    """``space.grammar`` is what a user compiles with Lark; the shared terminals resolve through GRAMMAR_LOADER."""
    from lark import Lark

    shared = resources.files("actionspaces.grammars").joinpath("terminals.lark").read_text(encoding="utf-8")
    users = []
    for space in default_spaces():
        lark = Lark(space.grammar, parser="lalr", import_paths=[GRAMMAR_LOADER])
        if "NUMBER" in {t.name for t in lark.terminals}:  # the one of terminals.lark, not a copy
            users.append(space.name)
            assert f"NUMBER: /{lark.get_terminal('NUMBER').pattern.value}/" in shared
            assert "\nNUMBER:" not in space.grammar
    assert sorted(users) == ["grounding", "raw"]


def test_prefixes_are_distinct():
    prefixes = ChainSpace().prefixes
    assert sorted(prefixes) == sorted(["Action:", "Grounding:", "Motion:", "Skill:", "Latent:"])


def test_importing_actionspaces_registers_the_env_ids_without_loading_the_simulator():
    script = (
        "import sys, gymnasium as gym, actionspaces\n"
        "assert 'actionspaces.envs' not in sys.modules and 'torch' not in sys.modules\n"
        "spec = gym.spec('actionspaces/CraftWorld-v0')\n"
        "env = gym.make('actionspaces/CraftWorld-v0', task='kill_entity:cow')\n"
        "print(spec.max_episode_steps, type(env.unwrapped).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2400", "CraftWorld"]
