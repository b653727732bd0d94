"""Extract the facts CraftWorld needs about Minecraft 1.16.5 from the ``minecraft-data`` package.

    python scripts/build_world_data.py [OUT]   (``make world-data``; default: the package's data file)

``minecraft-data`` (PrismarineJS's data, packaged for Python; the ``dev`` extra installs it) is about
100 MB installed, every version and edition; CraftWorld needs a few hundred kilobytes of one version, so
this script writes them to ``src/actionspaces/envs/craftworld/data/minecraft-1.16.5.json`` and the
package reads that file. ``tests/envs/test_world_data.py`` regenerates it and checks it is unchanged, so the
file cannot drift from its source.

What is kept, with item and block ids resolved to names:

* ``blocks``: hardness, whether it can be dug, its bounding box (``block`` or ``empty``), its material,
  the tools that harvest it (``null``: any, the hand included) and its drops from the block loot table.
* ``materials``: each material's mining speed per tool.
* ``items``: stack sizes. ``foods``: food points.
* ``mobs``: every living entity (the player aside) with its category, width and height, and its drops (entity loot).
* ``recipes``: every crafting recipe per result, shaped (``pattern`` + ``key``) or shapeless
  (``ingredients``), in the data's order (the first is the one a task hands out).

A drop is ``[item, chance, min, max]``. The data splits a block's loot into a silk-touch branch and a
plain one, each with chance 0.5; CraftWorld has no enchantments, so the silk-touch branch is dropped and
the plain one gets chance 1. Three entries (melon, the two mushroom blocks) lack one bound of their count
range; the other bound is used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VERSION = "1.16.5"
OUT = Path(__file__).resolve().parents[1] / "src/actionspaces/envs/craftworld/data/minecraft-1.16.5.json"


def _drops(entries: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for entry in entries:
        if entry.get("silkTouch"):
            continue
        chance = 1.0 if entry.get("noSilkTouch") else float(entry.get("dropChance", 1.0))
        low, high = entry.get("stackSizeRange", [1, 1])
        # three entries of the data have one bound missing (melon, the mushroom blocks): it takes the other
        low, high = (high if low is None else low), (low if high is None else high)
        out.append([entry["item"], round(chance, 4), int(low), int(high)])
    return out


def _recipe(raw: dict[str, Any], item: dict[int, str]) -> dict[str, Any]:
    count = int(raw["result"]["count"])
    if "ingredients" in raw:
        return {"count": count, "ingredients": [item[i] for i in raw["ingredients"]]}
    symbols: dict[str, str] = {}
    pattern = []
    for row in raw["inShape"]:
        line = ""
        for cell in row:
            if cell is None:
                line += " "
                continue
            name = item[cell]
            if name not in symbols:
                symbols[name] = "ABCDEFGHI"[len(symbols)]
            line += symbols[name]
        pattern.append(line)
    width = max(len(line) for line in pattern)
    return {"count": count, "pattern": [line.ljust(width) for line in pattern],
            "key": {s: name for name, s in symbols.items()}}  # fmt: skip


def extract() -> dict[str, Any]:
    """The world's facts for Minecraft 1.16.5, as the data file holds them."""
    import minecraft_data  # type: ignore[import-not-found]

    data = minecraft_data(VERSION)
    item = {i["id"]: i["name"] for i in data.items_list}
    block_loot = {b["block"]: b["drops"] for b in data.blockLoot_list}
    entity_loot = {e["entity"]: e["drops"] for e in data.entityLoot_list}
    blocks = {}
    for b in data.blocks_list:
        tools = b.get("harvestTools")
        blocks[b["name"]] = {
            "hardness": b["hardness"],
            "diggable": bool(b["diggable"]),
            "box": b["boundingBox"],
            "material": b.get("material"),
            "harvest_tools": sorted(item[int(t)] for t in tools) if tools else None,
            "drops": _drops(block_loot.get(b["name"], [])),
        }
    materials = {name: {item[int(t)]: float(speed) for t, speed in sorted(tools.items(), key=lambda kv: int(kv[0]))}
                 for name, tools in sorted(data.materials.items())}  # fmt: skip
    # the data files a few 1.16 mobs (fox, bee, the piglins …) under "UNKNOWN" with projectiles and the
    # player; those among them with a loot table are the living ones
    living = [e for e in data.entities_list if e.get("category") in ("Hostile mobs", "Passive mobs")
              or (e.get("category") == "UNKNOWN" and e["name"] in entity_loot and e["name"] != "player")]  # fmt: skip
    mobs = {e["name"]: {"category": e.get("category", "UNKNOWN"), "width": e["width"], "height": e["height"],
                        "drops": _drops(entity_loot.get(e["name"], []))} for e in living}  # fmt: skip
    recipes: dict[str, list[dict[str, Any]]] = {}
    for result_id, variants in data.recipes.items():
        recipes[item[int(result_id)]] = [_recipe(v, item) for v in variants]
    return {
        "_source": f"minecraft-data (PrismarineJS) via the minecraft-data Python package, pc {VERSION}; "
        "generated by scripts/build_world_data.py: do not edit by hand",
        "version": VERSION,
        "blocks": blocks,
        "materials": materials,
        "items": {i["name"]: i["stackSize"] for i in data.items_list},
        "foods": {f["name"]: f["foodPoints"] for f in data.foods_list},
        "mobs": mobs,
        "recipes": recipes,
    }


def render(facts: dict[str, Any]) -> str:
    """The file's text: one entry per line, so that a change reads as a small diff."""
    lines = ["{"]
    sections = list(facts.items())
    for n, (key, value) in enumerate(sections):
        end = "," if n + 1 < len(sections) else ""
        if isinstance(value, dict):
            lines.append(f"  {json.dumps(key)}: {{")
            entries = list(value.items())
            for m, (name, entry) in enumerate(entries):
                comma = "," if m + 1 < len(entries) else ""
                lines.append(f"    {json.dumps(name)}: {json.dumps(entry, separators=(',', ':'))}{comma}")
            lines.append("  }" + end)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    try:
        facts = extract()
    except ImportError:
        print("needs the minecraft-data package: pip install minecraft-data==3.20.0", file=sys.stderr)
        return 1
    out.write_text(render(facts), encoding="utf-8")
    print(f"wrote {out}: {len(facts['blocks'])} blocks, {len(facts['items'])} items, {len(facts['mobs'])} mobs, "
          f"{len(facts['recipes'])} recipe results")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
