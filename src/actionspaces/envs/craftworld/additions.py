"""What CraftWorld adds on top of Minecraft's data: the facts ``minecraft-data`` does not carry, and looks.

Everything here is CraftWorld's own table, kept apart from the facts read from the data set
(:mod:`actionspaces.envs.craftworld.catalog`):

* ``MOB_HEALTH``: each mob's maximum health (Minecraft Java 1.16's values; the data set has no health).
  Mobs with a size or a random range take their largest size or the middle of the range.
* ``MOB_SPEED`` and ``MOB_BEHAVIOR``: how fast a mob walks in CraftWorld (blocks per tick) and whether it
  approaches the player; the data set's category decides the behaviour where it names one.
* ``TOOL_COMBAT``: each tool class's attack damage bonus and attacks per second (Minecraft's; the data
  set has neither).
* colours: a block's or an item's flat-shaded colour, from a few hand-picked ones, Minecraft's dye colours
  for names that start with a dye, and a colour per material otherwise.
"""

from __future__ import annotations

import zlib

__all__ = ["MOB_BEHAVIOR", "MOB_HEALTH", "MOB_SPEED", "TOOL_COMBAT", "color_of"]

MOB_HEALTH: dict[str, float] = {
    "bat": 6, "bee": 10, "blaze": 20, "cat": 10, "cave_spider": 12, "chicken": 4, "cod": 3, "cow": 10,
    "creeper": 20, "dolphin": 10, "donkey": 22, "drowned": 20, "elder_guardian": 80, "ender_dragon": 200,
    "enderman": 40, "endermite": 8, "evoker": 24, "evoker_fangs": 1, "fox": 10, "ghast": 10, "giant": 100,
    "guardian": 30, "hoglin": 40, "horse": 22, "husk": 20, "illusioner": 32, "iron_golem": 100, "llama": 22,
    "magma_cube": 16, "mooshroom": 10, "mule": 22, "ocelot": 10, "panda": 20, "parrot": 6, "phantom": 20,
    "pig": 10, "piglin": 16, "piglin_brute": 50, "pillager": 24, "polar_bear": 30, "pufferfish": 3,
    "rabbit": 3, "ravager": 100, "salmon": 3, "sheep": 8, "shulker": 30, "silverfish": 8, "skeleton": 20,
    "skeleton_horse": 15, "slime": 16, "snow_golem": 4, "spider": 16, "squid": 10, "stray": 20, "strider": 20,
    "trader_llama": 22, "tropical_fish": 3, "turtle": 30, "vex": 14, "villager": 20, "vindicator": 24,
    "wandering_trader": 20, "witch": 26, "wither": 300, "wither_skeleton": 20, "wolf": 8, "zoglin": 40,
    "zombie": 20, "zombie_horse": 15, "zombie_villager": 20, "zombified_piglin": 20,
}  # fmt: skip

#: Walking speed in blocks per tick where it differs from the behaviour's default.
MOB_SPEED: dict[str, float] = {
    "rabbit": 0.15, "horse": 0.2, "donkey": 0.17, "llama": 0.17, "fox": 0.2, "turtle": 0.05, "polar_bear": 0.17,
    "spider": 0.15, "enderman": 0.15, "cave_spider": 0.15, "wolf": 0.15, "ocelot": 0.15, "cat": 0.15,
    "shulker": 0.0, "iron_golem": 0.08, "snow_golem": 0.08, "silverfish": 0.12, "endermite": 0.12,
}  # fmt: skip
DEFAULT_SPEED = {"passive": 0.1, "hostile": 0.12}

#: Behaviour of the mobs the data set files under no category, and of those CraftWorld treats otherwise.
MOB_BEHAVIOR: dict[str, str] = {
    "bee": "passive", "fox": "passive", "strider": "passive", "hoglin": "hostile", "piglin": "hostile",
    "piglin_brute": "hostile", "zoglin": "hostile", "zombified_piglin": "passive",
    "enderman": "passive",  # neutral until looked at; CraftWorld never provokes it
}  # fmt: skip

#: Tool class -> (attack damage added to the tier's base, attacks per second).
TOOL_COMBAT: dict[str, tuple[float, float]] = {
    "sword": (3.0, 1.6), "axe": (6.0, 0.8), "pickaxe": (1.0, 1.2), "shovel": (1.5, 1.0), "hoe": (0.0, 1.0),
}  # fmt: skip
#: Tier -> base attack damage (wooden 1 … netherite 5; golden as wooden).
TIER_DAMAGE: dict[str, float] = {"wooden": 1.0, "golden": 1.0, "stone": 2.0, "iron": 3.0, "diamond": 4.0,
                                 "netherite": 5.0}  # fmt: skip

_COLORS: dict[str, tuple[int, int, int]] = {
    "oak_log": (102, 81, 50), "birch_log": (216, 215, 210), "spruce_log": (58, 37, 16), "jungle_log": (85, 68, 25),
    "acacia_log": (103, 96, 86), "dark_oak_log": (60, 46, 26), "oak_leaves": (60, 120, 30),
    "oak_planks": (162, 130, 78), "crafting_table": (120, 73, 42), "dirt": (134, 96, 67),
    "grass_block": (95, 159, 53), "sand": (219, 207, 163), "red_sand": (190, 102, 33), "gravel": (131, 127, 126),
    "clay": (160, 166, 179), "snow_block": (249, 254, 254), "stone": (125, 125, 125), "cobblestone": (110, 110, 110),
    "sandstone": (216, 203, 155), "coal_ore": (70, 70, 70), "iron_ore": (136, 129, 122), "gold_ore": (145, 133, 106),
    "diamond_ore": (121, 141, 140), "sugar_cane": (148, 192, 101), "hay_block": (166, 136, 38),
    "pumpkin": (198, 118, 24), "melon": (111, 145, 30), "dandelion": (230, 210, 40), "poppy": (200, 30, 30),
    "brown_mushroom": (150, 110, 80), "chest": (160, 110, 50), "obsidian": (20, 18, 30), "netherrack": (110, 50, 50),
    "cow": (68, 54, 38), "mooshroom": (160, 20, 20), "sheep": (230, 230, 230), "pig": (240, 160, 160),
    "chicken": (255, 255, 255), "rabbit": (150, 120, 90), "horse": (130, 90, 50), "donkey": (120, 110, 100),
    "llama": (200, 180, 140), "fox": (220, 120, 40), "turtle": (60, 140, 60), "polar_bear": (240, 240, 235),
    "panda": (245, 245, 245), "zombie": (60, 110, 60), "husk": (150, 130, 90), "skeleton": (190, 190, 190),
    "spider": (50, 40, 35), "creeper": (80, 170, 70), "slime": (110, 190, 90), "witch": (80, 40, 90),
    "enderman": (20, 20, 25),
}  # fmt: skip

#: Minecraft's sixteen dye colours (their map colours), for names like ``red_wool`` or ``light_blue_bed``.
_DYES: dict[str, tuple[int, int, int]] = {
    "white": (233, 236, 236), "orange": (240, 118, 19), "magenta": (189, 68, 179), "light_blue": (58, 175, 217),
    "yellow": (248, 198, 39), "lime": (112, 185, 25), "pink": (237, 141, 172), "gray": (62, 68, 71),
    "light_gray": (142, 142, 134), "cyan": (21, 137, 145), "purple": (121, 42, 172), "blue": (53, 57, 157),
    "brown": (114, 71, 40), "green": (84, 109, 27), "red": (161, 39, 34), "black": (20, 21, 25),
}  # fmt: skip
_MATERIAL_COLORS: dict[str | None, tuple[int, int, int]] = {
    "rock": (120, 120, 120), "wood": (150, 115, 70), "plant": (70, 140, 50), "dirt": (134, 96, 67),
    "wool": (220, 220, 220), "web": (230, 230, 230),
}  # fmt: skip


def color_of(name: str, material: str | None = None) -> tuple[int, int, int]:
    """A flat colour for a block, a mob or an item: hand-picked, a dye's, the material's, or one from the name.

    Examples:
        >>> color_of("oak_log"), color_of("light_blue_wool"), color_of("andesite", "rock")
        ((102, 81, 50), (58, 175, 217), (120, 120, 120))
    """
    if name in _COLORS:
        return _COLORS[name]
    for dye in sorted(_DYES, key=len, reverse=True):  # light_blue before blue
        if name.startswith(dye + "_"):
            return _DYES[dye]
    if material in _MATERIAL_COLORS:
        return _MATERIAL_COLORS[material]
    h = zlib.crc32(name.encode())  # stable across runs and platforms, unlike hash()
    return 60 + h % 160, 60 + (h >> 8) % 160, 60 + (h >> 16) % 160
