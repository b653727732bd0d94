"""What CraftWorld's blocks, items, tools and mobs are: Minecraft 1.16.5's facts, from ``minecraft-data``.

The facts (blocks with their hardness, material, harvest tools and drops; each material's mining speed
per tool; stack sizes; mobs with their size, category and drops; recipes) are read from
``data/minecraft-1.16.5.json``, which ``scripts/build_world_data.py`` extracts from the ``minecraft-data``
package. What the data set lacks (mob health and speed, tool damage, colours) is CraftWorld's own, in
:mod:`actionspaces.envs.craftworld.additions`.

Mining time follows the game's formula: damage per tick = speed / hardness / (30 if the held tool can
harvest the block else 100), where speed is the material's multiplier for the held tool (1 for anything
else), and the block breaks after ``ceil(1 / damage)`` ticks. A drop is given when the data says it always
drops (its chance is 1), with the low end of its count range (at least one).

Examples:
    >>> tools = BLOCKS["iron_ore"].harvest_tools
    >>> tools >= {"stone_pickaxe", "iron_pickaxe"}, "wooden_pickaxe" in tools, BLOCKS["iron_ore"].tool
    (True, False, 'stone_pickaxe')
    >>> MOBS["cow"].drops
    (('leather', 1), ('beef', 1))
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .additions import DEFAULT_SPEED, MOB_BEHAVIOR, MOB_HEALTH, MOB_SPEED, TIER_DAMAGE, TOOL_COMBAT, color_of

__all__ = [
    "BLOCKS",
    "MC_VERSION",
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
    "world_data",
]

STACK_SIZE = 64
#: Tool tiers, cheapest first (golden is tier 0 in Minecraft's harvest rules, as wooden).
TIERS = ("wooden", "golden", "stone", "iron", "diamond", "netherite")
_TIER_LEVEL = {"wooden": 0, "golden": 0, "stone": 1, "iron": 2, "diamond": 3, "netherite": 4}
_KINDS = ("axe", "pickaxe", "shovel", "hoe", "sword")


@cache
def world_data() -> dict[str, Any]:
    """The data file's contents (``data/minecraft-1.16.5.json``), read once."""
    text = resources.files(__package__).joinpath("data/minecraft-1.16.5.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


#: The Minecraft version the facts are from.
MC_VERSION: str = world_data()["version"]


def _cost(tool: str) -> tuple[int, int, str]:
    """How dear a tool is: its tier, then wooden before golden (shears count as wooden)."""
    tier = tool.split("_", maxsplit=1)[0]
    return (_TIER_LEVEL[tier], TIERS.index(tier), tool) if tier in _TIER_LEVEL else (0, 0, tool)


@dataclass(frozen=True)
class BlockInfo:
    """A block: hardness, material, the tools that harvest it (``None``: anything), drops, looks."""

    hardness: float
    material: str | None
    harvest_tools: frozenset[str] | None
    drops: tuple[tuple[str, int], ...]
    diggable: bool = True
    solid: bool = True
    color: tuple[int, int, int] = (128, 128, 128)

    @property
    def needs_tool(self) -> bool:
        """Whether only some tools make it drop anything."""
        return self.harvest_tools is not None

    def speed(self, held: str | None) -> float:
        """The held item's mining speed multiplier on this block (1 for the hand and the wrong tools)."""
        return _MATERIAL_SPEED.get(self.material or "", {}).get(held or "", 1.0)

    @property
    def tool(self) -> str | None:
        """The tool a mining task hands out: the cheapest that harvests it, else the fastest wooden one (or shears).

        ``None`` where nothing beats the hand (or the block breaks at once).
        """
        if self.harvest_tools:
            return min(self.harvest_tools, key=_cost)
        if self.hardness == 0:
            return None
        speeds = _MATERIAL_SPEED.get(self.material or "", {})
        candidates = [t for t in (*(f"wooden_{k}" for k in _KINDS), "shears") if speeds.get(t, 1.0) > 1.0]
        return max(candidates, key=lambda t: speeds[t]) if candidates else None


@dataclass(frozen=True)
class ToolInfo:
    """A tool: its class, tier (0 wooden and golden, 1 stone, 2 iron, 3 diamond, 4 netherite), damage, speed."""

    kind: str
    tier: int
    damage: float
    attack_speed: float  # attacks per second at full strength


@dataclass(frozen=True)
class MobInfo:
    """A mob: health, walking speed (blocks per tick), how it behaves, what it drops, its size, its colour."""

    health: float
    speed: float
    behavior: str  # "passive" (wanders, flees when hit) or "hostile" (approaches the player)
    drops: tuple[tuple[str, int], ...]
    width: float
    height: float
    color: tuple[int, int, int]


def _drops(entries: list[list[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((item, max(1, int(low))) for item, chance, low, _ in entries if chance >= 1.0)


def _blocks(data: dict[str, Any]) -> dict[str, BlockInfo]:
    out = {}
    for name, b in data["blocks"].items():
        tools = b["harvest_tools"]
        out[name] = BlockInfo(
            hardness=float(b["hardness"]) if b["hardness"] is not None else math.inf,
            material=b["material"] if b["material"] != "UNKNOWN_MATERIAL" else None,
            harvest_tools=frozenset(tools) if tools else None,
            drops=_drops(b["drops"]),
            diggable=b["diggable"],
            solid=b["box"] == "block",
            color=color_of(name, b["material"]),
        )
    return out


def _mobs(data: dict[str, Any]) -> dict[str, MobInfo]:
    out = {}
    for name, m in data["mobs"].items():
        behavior = MOB_BEHAVIOR.get(name) or ("hostile" if m["category"] == "Hostile mobs" else "passive")
        out[name] = MobInfo(
            health=float(MOB_HEALTH[name]),
            speed=MOB_SPEED.get(name, DEFAULT_SPEED[behavior]),
            behavior=behavior,
            drops=_drops(m["drops"]),
            width=float(m["width"]),
            height=float(m["height"]),
            color=color_of(name),
        )
    return out


def _tools() -> dict[str, ToolInfo]:
    tools = {
        f"{tier}_{kind}": ToolInfo(kind, _TIER_LEVEL[tier], TIER_DAMAGE[tier] + bonus, per_second)
        for tier in TIERS
        for kind, (bonus, per_second) in TOOL_COMBAT.items()
    }
    tools["shears"] = ToolInfo("shears", 0, 1.0, 4.0)
    return tools


_MATERIAL_SPEED: dict[str, dict[str, float]] = world_data()["materials"]
BLOCKS: dict[str, BlockInfo] = _blocks(world_data())
MOBS: dict[str, MobInfo] = _mobs(world_data())
TOOLS: dict[str, ToolInfo] = _tools()
_STACK: dict[str, int] = world_data()["items"]


def stack_size(item: str) -> int:
    """How many of ``item`` one slot holds (Minecraft's stack size; 64 for a name the data does not list).

    Examples:
        >>> stack_size("stone_pickaxe"), stack_size("snowball"), stack_size("cobblestone")
        (1, 16, 64)
    """
    return _STACK.get(item, STACK_SIZE)


def mining_ticks(block: str, held: str | None) -> tuple[int, bool]:
    """``(ticks, drops)``: how long ``held`` takes to break ``block``, and whether the block drops.

    Examples:
        >>> mining_ticks("oak_log", None), mining_ticks("stone", None), mining_ticks("stone", "wooden_pickaxe")
        ((60, True), (150, False), (23, True))
    """
    info = BLOCKS[block]
    harvest = info.harvest_tools is None or (held or "") in info.harvest_tools
    if info.hardness == 0:
        return 1, harvest
    damage = info.speed(held) / info.hardness / (30 if harvest else 100)
    return max(1, math.ceil(1 / damage - 1e-9)), harvest


def attack_damage(held: str | None) -> float:
    """Damage of one full-strength hit with ``held`` (the hand deals 1)."""
    tool = TOOLS.get(held or "")
    return tool.damage if tool is not None else 1.0


def attack_cooldown(held: str | None) -> int:
    """Ticks between full-strength hits (20 / attack speed; the hand: 4 per second → 5 ticks)."""
    tool = TOOLS.get(held or "")
    return math.ceil(20 / (tool.attack_speed if tool is not None else 4.0))
