"""What CraftWorld's blocks, tools and mobs are: Minecraft's hardness, tools, drops, health and speeds.

Values are Minecraft Java Edition facts (block hardness, the tool that mines a block and whether it
needs one to drop anything, tool speed multipliers, mob health and drops). Mining time follows the
game's formula: damage per tick = speed / hardness / (30 if the tool can harvest the block else 100),
and the block breaks after ``ceil(1 / damage)`` ticks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "BLOCKS",
    "MOBS",
    "STACK_SIZE",
    "TOOLS",
    "BlockInfo",
    "MobInfo",
    "ToolInfo",
    "attack_cooldown",
    "attack_damage",
    "mining_ticks",
    "stack_size",
]


@dataclass(frozen=True)
class BlockInfo:
    """A block kind: hardness, the tool class that speeds it up, whether it needs that tool to drop."""

    hardness: float
    tool: str | None  # "axe", "pickaxe", "shovel", "hoe", "shears" or None
    needs_tool: bool
    drops: tuple[tuple[str, int], ...]
    min_tier: int = 0  # pickaxe tier needed to drop: 0 wood, 1 stone, 2 iron
    color: tuple[int, int, int] = (128, 128, 128)
    solid: bool = True


@dataclass(frozen=True)
class ToolInfo:
    """A tool: its class, tier (0 wood, 1 stone, 2 iron, 3 diamond, 4 gold), speed and damage."""

    kind: str
    tier: int
    speed: float
    damage: float
    attack_speed: float  # attacks per second at full strength


@dataclass(frozen=True)
class MobInfo:
    """A mob kind: health, walking speed (blocks per tick), how it behaves, what it drops, its size."""

    health: float
    speed: float
    behavior: str  # "passive" (wanders, flees when hit) or "hostile" (approaches the player)
    drops: tuple[tuple[str, int], ...]
    width: float
    height: float
    color: tuple[int, int, int]


BLOCKS: dict[str, BlockInfo] = {
    "oak_log": BlockInfo(2.0, "axe", False, (("oak_log", 1),), color=(102, 81, 50)),
    "birch_log": BlockInfo(2.0, "axe", False, (("birch_log", 1),), color=(216, 215, 210)),
    "spruce_log": BlockInfo(2.0, "axe", False, (("spruce_log", 1),), color=(58, 37, 16)),
    "jungle_log": BlockInfo(2.0, "axe", False, (("jungle_log", 1),), color=(85, 68, 25)),
    "acacia_log": BlockInfo(2.0, "axe", False, (("acacia_log", 1),), color=(103, 96, 86)),
    "dark_oak_log": BlockInfo(2.0, "axe", False, (("dark_oak_log", 1),), color=(60, 46, 26)),
    "oak_leaves": BlockInfo(0.2, "hoe", False, (), color=(60, 120, 30)),
    "oak_planks": BlockInfo(2.0, "axe", False, (("oak_planks", 1),), color=(162, 130, 78)),
    "crafting_table": BlockInfo(2.5, "axe", False, (("crafting_table", 1),), color=(120, 73, 42)),
    "dirt": BlockInfo(0.5, "shovel", False, (("dirt", 1),), color=(134, 96, 67)),
    "grass_block": BlockInfo(0.6, "shovel", False, (("dirt", 1),), color=(95, 159, 53)),
    "sand": BlockInfo(0.5, "shovel", False, (("sand", 1),), color=(219, 207, 163)),
    "red_sand": BlockInfo(0.5, "shovel", False, (("red_sand", 1),), color=(190, 102, 33)),
    "gravel": BlockInfo(0.6, "shovel", False, (("gravel", 1),), color=(131, 127, 126)),
    "clay": BlockInfo(0.6, "shovel", False, (("clay_ball", 4),), color=(160, 166, 179)),
    "snow_block": BlockInfo(0.2, "shovel", True, (("snowball", 4),), color=(249, 254, 254)),
    "stone": BlockInfo(1.5, "pickaxe", True, (("cobblestone", 1),), color=(125, 125, 125)),
    "cobblestone": BlockInfo(2.0, "pickaxe", True, (("cobblestone", 1),), color=(110, 110, 110)),
    "sandstone": BlockInfo(0.8, "pickaxe", True, (("sandstone", 1),), color=(216, 203, 155)),
    "coal_ore": BlockInfo(3.0, "pickaxe", True, (("coal", 1),), color=(70, 70, 70)),
    "iron_ore": BlockInfo(3.0, "pickaxe", True, (("raw_iron", 1),), min_tier=1, color=(136, 129, 122)),
    "copper_ore": BlockInfo(3.0, "pickaxe", True, (("raw_copper", 2),), min_tier=1, color=(124, 125, 120)),
    "gold_ore": BlockInfo(3.0, "pickaxe", True, (("raw_gold", 1),), min_tier=2, color=(145, 133, 106)),
    "diamond_ore": BlockInfo(3.0, "pickaxe", True, (("diamond", 1),), min_tier=2, color=(121, 141, 140)),
    "sugar_cane": BlockInfo(0.0, None, False, (("sugar_cane", 1),), color=(148, 192, 101), solid=False),
    "hay_block": BlockInfo(0.5, "hoe", False, (("hay_block", 1),), color=(166, 136, 38)),
    "pumpkin": BlockInfo(1.0, "axe", False, (("pumpkin", 1),), color=(198, 118, 24)),
    "melon": BlockInfo(1.0, "axe", False, (("melon_slice", 5),), color=(111, 145, 30)),
    "dandelion": BlockInfo(0.0, None, False, (("dandelion", 1),), color=(230, 210, 40), solid=False),
    "poppy": BlockInfo(0.0, None, False, (("poppy", 1),), color=(200, 30, 30), solid=False),
    "brown_mushroom": BlockInfo(0.0, None, False, (("brown_mushroom", 1),), color=(150, 110, 80), solid=False),
    "chest": BlockInfo(2.5, "axe", False, (("chest", 1),), color=(160, 110, 50)),
}

TOOLS: dict[str, ToolInfo] = {
    **{f"{m}_{k}": ToolInfo(k, t, s, d + {"sword": 3, "axe": 6, "pickaxe": 1, "shovel": 1.5, "hoe": 0}[k], a[k])
       for m, t, s, d in (("wooden", 0, 2.0, 1.0), ("stone", 1, 4.0, 2.0), ("iron", 2, 6.0, 3.0),
                          ("diamond", 3, 8.0, 4.0), ("golden", 0, 12.0, 1.0))
       for a in [{"sword": 1.6, "axe": 0.8, "pickaxe": 1.2, "shovel": 1.0, "hoe": 1.0}]
       for k in ("sword", "axe", "pickaxe", "shovel", "hoe")},
    "shears": ToolInfo("shears", 0, 2.0, 1.0, 4.0),
}  # fmt: skip

MOBS: dict[str, MobInfo] = {
    "cow": MobInfo(10, 0.1, "passive", (("beef", 2), ("leather", 1)), 0.9, 1.4, (68, 54, 38)),
    "mooshroom": MobInfo(10, 0.1, "passive", (("beef", 2), ("leather", 1)), 0.9, 1.4, (160, 20, 20)),
    "sheep": MobInfo(8, 0.1, "passive", (("white_wool", 1), ("mutton", 1)), 0.9, 1.3, (230, 230, 230)),
    "pig": MobInfo(10, 0.1, "passive", (("porkchop", 2),), 0.9, 0.9, (240, 160, 160)),
    "chicken": MobInfo(4, 0.1, "passive", (("chicken", 1), ("feather", 1)), 0.4, 0.7, (255, 255, 255)),
    "rabbit": MobInfo(3, 0.15, "passive", (("rabbit", 1), ("rabbit_hide", 1)), 0.4, 0.5, (150, 120, 90)),
    "horse": MobInfo(22, 0.2, "passive", (("leather", 1),), 1.4, 1.6, (130, 90, 50)),
    "donkey": MobInfo(20, 0.17, "passive", (("leather", 1),), 1.4, 1.5, (120, 110, 100)),
    "llama": MobInfo(22, 0.17, "passive", (("leather", 1),), 0.9, 1.87, (200, 180, 140)),
    "goat": MobInfo(10, 0.15, "passive", (), 0.9, 1.3, (220, 215, 200)),
    "fox": MobInfo(10, 0.2, "passive", (), 0.6, 0.7, (220, 120, 40)),
    "turtle": MobInfo(30, 0.05, "passive", (("seagrass", 1),), 1.2, 0.4, (60, 140, 60)),
    "polar_bear": MobInfo(30, 0.17, "passive", (("cod", 1),), 1.4, 1.4, (240, 240, 235)),
    "panda": MobInfo(20, 0.1, "passive", (("bamboo", 1),), 1.3, 1.25, (245, 245, 245)),
    "zombie": MobInfo(20, 0.12, "hostile", (("rotten_flesh", 1),), 0.6, 1.95, (60, 110, 60)),
    "husk": MobInfo(20, 0.12, "hostile", (("rotten_flesh", 1),), 0.6, 1.95, (150, 130, 90)),
    "skeleton": MobInfo(20, 0.12, "hostile", (("bone", 1), ("arrow", 1)), 0.6, 1.99, (190, 190, 190)),
    "spider": MobInfo(16, 0.15, "hostile", (("string", 1),), 1.4, 0.9, (50, 40, 35)),
    "creeper": MobInfo(20, 0.1, "hostile", (("gunpowder", 1),), 0.6, 1.7, (80, 170, 70)),
    "slime": MobInfo(4, 0.1, "hostile", (("slime_ball", 1),), 1.04, 1.04, (110, 190, 90)),
    "witch": MobInfo(26, 0.1, "hostile", (("glass_bottle", 1),), 0.6, 1.95, (80, 40, 90)),
    "enderman": MobInfo(40, 0.15, "passive", (("ender_pearl", 1),), 0.6, 2.9, (20, 20, 25)),
}

#: Items that do not stack (tools and similar); everything else stacks to 64 (16 for a few).
_UNSTACKABLE = {"bucket", "shears", "bow", "fishing_rod", "flint_and_steel", "compass", "clock", "shield",
                "minecart", "oak_boat", "mushroom_stew", "white_bed", "milk_bucket"}  # fmt: skip
_STACK_16 = {"snowball", "egg", "ender_pearl", "oak_sign", "bucket"}
STACK_SIZE = 64


def stack_size(item: str) -> int:
    """How many of ``item`` one slot holds (1 for tools and armour, 16 for a few, else 64)."""
    if item in TOOLS or item in _UNSTACKABLE or item.endswith(("_helmet", "_chestplate", "_leggings", "_boots")):
        return 1
    return 16 if item in _STACK_16 else STACK_SIZE


def mining_ticks(block: str, held: str | None) -> tuple[int, bool]:
    """``(ticks, drops)``: how long ``held`` takes to break ``block``, and whether the block drops.

    Examples:
        >>> mining_ticks("oak_log", None), mining_ticks("stone", None), mining_ticks("stone", "wooden_pickaxe")
        ((60, True), (150, False), (23, True))
    """
    info = BLOCKS[block]
    if info.hardness == 0:
        return 1, True
    tool = TOOLS.get(held or "")
    right_tool = tool is not None and tool.kind == info.tool
    speed = tool.speed if right_tool and tool is not None else 1.0
    harvest = not info.needs_tool or (right_tool and tool is not None and tool.tier >= info.min_tier)
    damage = speed / info.hardness / (30 if harvest else 100)
    return max(1, math.ceil(1 / damage - 1e-9)), harvest


def attack_damage(held: str | None) -> float:
    """Damage of one full-strength hit with ``held`` (the hand deals 1)."""
    tool = TOOLS.get(held or "")
    return tool.damage if tool is not None else 1.0


def attack_cooldown(held: str | None) -> int:
    """Ticks between full-strength hits (20 / attack speed; the hand: 4 per second → 5 ticks)."""
    tool = TOOLS.get(held or "")
    return math.ceil(20 / (tool.attack_speed if tool is not None else 4.0))
