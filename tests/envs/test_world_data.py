"""CraftWorld's facts come from minecraft-data (1.16.5) and its registry is at the benchmark's scale."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from actionspaces.envs.craftworld import EXCLUDED, CraftWorld, RecipeBook, get_task, task_subset, tasks
from actionspaces.envs.craftworld.catalog import BLOCKS, MC_VERSION, MOBS, mining_ticks, stack_size, world_data
from actionspaces.envs.craftworld.expert import solve

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src/actionspaces/envs/craftworld/data/minecraft-1.16.5.json"


@pytest.mark.skipif(importlib.util.find_spec("minecraft_data") is None, reason="needs the minecraft-data package")
def test_the_data_file_is_what_the_build_script_extracts(tmp_path: Path) -> None:
    out = tmp_path / "world.json"
    result = subprocess.run([sys.executable, str(ROOT / "scripts/build_world_data.py"), str(out)],
                            check=False, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_text() == DATA.read_text(), "the data file drifted: run make world-data"


def test_recipes_tools_and_drops_are_minecraft_1_16_5s() -> None:
    assert MC_VERSION == "1.16.5"
    book = RecipeBook.default()
    pickaxe = book.recipe_for("stone_pickaxe")
    assert Counter(c for row in pickaxe.cells() for c in row if c) == {"cobblestone": 3, "stick": 2}
    assert {r.recipe_for("stone_pickaxe").result for r in [book]} == {"stone_pickaxe"}
    assert {"blackstone"} <= {c for r in book.recipes_for("stone_pickaxe") for row in r.cells() for c in row if c}
    assert book.match([["oak_planks", None], ["oak_planks", None]]).count == 4  # a stick from two planks
    assert book.match([["birch_planks"], ["birch_planks"]]).result == "stick"  # any planks, as in the game
    assert get_task("craft_item:stone_pickaxe").ingredients() == {"cobblestone": 3, "stick": 2}
    assert get_task("craft_item:stone_pickaxe").screen == "crafting_table"
    # iron ore needs a stone pickaxe; in 1.16 it drops itself (raw iron is 1.17)
    assert not mining_ticks("iron_ore", "wooden_pickaxe")[1] and mining_ticks("iron_ore", "stone_pickaxe")[1]
    assert BLOCKS["iron_ore"].drops == (("iron_ore", 1),) and get_task("mine_block:iron_ore").tool == "stone_pickaxe"
    assert get_task("mine_block:obsidian").tool == "diamond_pickaxe"
    assert BLOCKS["stone"].drops == (("cobblestone", 1),) and BLOCKS["grass_block"].drops == (("dirt", 1),)
    assert dict(MOBS["cow"].drops) == {"beef": 1, "leather": 1}
    assert "copper_ore" not in BLOCKS and "goat" not in MOBS  # 1.17 additions
    assert stack_size("ender_pearl") == 16 and stack_size("iron_sword") == 1 and stack_size("dirt") == 64


def test_the_registry_is_at_the_benchmarks_scale_with_the_training_split_unchanged() -> None:
    assert len(tasks()) >= 800
    counts = Counter((t.category, t.split) for t in tasks())
    assert all(counts[(c, "train")] == 10 for c in ("mine_block", "kill_entity", "craft_item"))
    assert counts[("mine_block", "eval")] > 600 and counts[("craft_item", "eval")] > 500
    assert counts[("kill_entity", "eval")] > 50
    assert [t.target for t in tasks("train", "craft_item")] == ["oak_planks", "stick", "crafting_table",
        "wooden_pickaxe", "wooden_sword", "chest", "torch", "ladder", "furnace", "stone_pickaxe"]  # fmt: skip
    assert len({t.id for t in tasks()}) == len(tasks())


def test_every_candidate_is_a_task_or_excluded_with_a_reason() -> None:
    candidates = (
        {f"mine_block:{b}" for b in world_data()["blocks"]}
        | {f"kill_entity:{m}" for m in world_data()["mobs"]}
        | {f"craft_item:{r}" for r in world_data()["recipes"]}
    )
    registered = {t.id for t in tasks()}
    assert registered | set(EXCLUDED) == candidates
    assert not registered & set(EXCLUDED)
    assert all(isinstance(reason, str) and len(reason) > 10 for reason in EXCLUDED.values())
    assert "mine_block:bedrock" in EXCLUDED and "kill_entity:ender_dragon" in EXCLUDED
    assert "torch" in EXCLUDED["mine_block:wall_torch"]


def test_every_mining_task_can_be_harvested_with_the_tool_it_hands_out() -> None:
    for task in tasks(category="mine_block"):
        ticks, drops = mining_ticks(task.target, task.tool)
        assert drops and ticks <= 400, (task.id, task.tool, ticks)


def test_the_stratified_subset_is_seeded_and_bounded() -> None:
    a, b = task_subset(7), task_subset(7, seed=1)
    assert len(a) == 21 and Counter(t.category for t in a) == {
        c: 7 for c in ("mine_block", "kill_entity", "craft_item")
    }
    assert a == task_subset(7) and a != b and all(t.split == "eval" for t in a)
    assert task_subset(None) == tasks("eval") and len(task_subset(1000)) == len(tasks("eval"))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="per_category"):
            task_subset(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_expert_solves_a_sample_of_held_out_tasks(seed: int) -> None:
    for task in task_subset(12, seed=seed + 10):
        assert solve(CraftWorld(task), seed), task.id


def test_every_object_name_fits_the_grounding_label_a_model_may_generate() -> None:
    from actionspaces.decoding.grammar import GROUNDING_LABEL_MAX_CHARS

    longest = max([*BLOCKS, *MOBS], key=len)
    assert len(longest) <= GROUNDING_LABEL_MAX_CHARS, longest


def test_colours_come_from_one_table() -> None:
    from actionspaces.envs.craftworld.additions import color_of
    from actionspaces.envs.craftworld.render import item_color

    assert item_color("red_dye") == color_of("red_dye") == color_of("red_wool")  # a dye's colour by name
    assert item_color("oak_log") == BLOCKS["oak_log"].color and item_color("cow") == MOBS["cow"].color
    assert item_color("stick") == color_of("stick")  # an item with no block: the same derived colour
