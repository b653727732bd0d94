"""Draw the documentation's pictures from the library itself, so that they stay true when the code changes.

    python scripts/make_figures.py [OUT_DIR]     (default docs/images; ``make figures``)

* ``text_to_action.png``: a response, the chain the parser reads from it, and the env action it executes.
* ``grounding_grid.png``: OpenHA's 0–1000 grounding grid over a 640×360 CraftWorld frame, a point and its
  pixel; and in a GUI, how far the cursor moves per degree of camera (6.67 px).
* ``camera_bins.png``: the mu-law camera bins of the VPT quantizer (11 bins) and of OpenHA's reserved
  tokens (21 bins): degrees in, the bin's degrees out.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import actionspaces as asp
from actionspaces import OPENHA_CAMERA, VPT_CAMERA, GroundingSpace, Point
from actionspaces.envs import CraftWorld
from actionspaces.spaces.grounding import GRID
from actionspaces.state import GUI_PX_PER_DEGREE

RESPONSE = (
    "My task is to mine the block: oak_log. The log is ahead. The Grounding action is\n"
    "<grounding>Mine oak log(512,300)</grounding>. The Raw ACTION is <raw>camera move 2,-3attack</raw>."
)


def _box(ax: plt.Axes, xy: tuple[float, float], w: float, h: float, title: str, body: str, color: str) -> None:
    ax.add_patch(FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.02", fc=color, ec="#333333", lw=1.2))
    ax.text(xy[0] + 0.02, xy[1] + h - 0.05, title, fontsize=11, weight="bold", va="top")
    ax.text(xy[0] + 0.02, xy[1] + h - 0.13, body, fontsize=8.5, va="top", family="monospace")


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], label: str) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=18, lw=1.5, color="#333333"))
    ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.05, label, ha="center", fontsize=8.5, style="italic")


def _describe(action: object) -> str:
    """One short line for a parsed action (the figure has room for about 40 characters)."""
    if isinstance(action, asp.GroundingAction):
        command = action.commands[0]
        target = command.target
        where = f" at ({target.x:g}, {target.y:g})" if target is not None else ""
        return f"{command.verb} {command.label or ''}{where}".replace("  ", " ")
    if isinstance(action, asp.RawAction):
        return f"dx={action.dx:.1f}, dy={action.dy:.1f}, {', '.join(sorted(action.buttons)) or 'no keys'}"
    return textwrap.shorten(repr(action), 40)


def text_to_action(out: Path) -> None:
    chain = asp.parse(RESPONSE)
    assert chain.ok, chain.errors
    levels = "\n".join(
        f"{'→' if lv is chain.executable else ' '} {lv.space}: {_describe(lv.action)}" for lv in chain.levels
    )
    reasoning = "\n".join(f'"{textwrap.shorten(r.text, 36)}"' for r in chain.reasoning)
    env = chain.to_dict()["env_action"]
    held = ", ".join(k for k, v in env.items() if k != "camera" and v)
    pitch, yaw = env["camera"]
    fig, ax = plt.subplots(figsize=(13, 3.6))
    ax.set_xlim(0, 3.2)
    ax.set_ylim(0, 1)
    ax.axis("off")
    _box(ax, (0.02, 0.1), 0.95, 0.8, "the model's response", "\n".join(textwrap.wrap(RESPONSE, 40)), "#eef3fb")
    _box(
        ax,
        (1.12, 0.1),
        1.0,
        0.8,
        "Chain  (asp.parse)",
        f"levels, in text order:\n{levels}\n\nreasoning kept:\n{reasoning}",
        "#eefbef",
    )
    _box(
        ax,
        (2.27, 0.1),
        0.9,
        0.8,
        "MineRL env action  (g)",
        f"executes the {chain.executable.space} level\n(the lowest present)\n\nbuttons: {held}\n"
        f"camera: pitch {pitch:+.2f}°\n        yaw   {yaw:+.2f}°",
        "#fbf3ee",
    )
    _arrow(ax, (0.98, 0.5), (1.11, 0.5), "parse")
    _arrow(ax, (2.13, 0.5), (2.26, 0.5), "g")
    fig.savefig(out / "text_to_action.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def grounding_grid(out: Path) -> None:
    world = CraftWorld("mine_block:oak_log", render_mode="rgb_array")
    world.reset(seed=0)
    gui = CraftWorld("craft_item:crafting_table", render_mode="rgb_array")
    gui.reset(seed=0)
    width, height = world.camera.width, world.camera.height
    point = Point(x=512, y=300)
    px, py = point.to_pixels(width, height)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.6))
    left.imshow(world.render(), extent=(0, width, height, 0))
    for v in range(0, GRID + 1, 100):
        left.axvline(v * width / GRID, color="white", lw=0.6, alpha=0.7)
        left.axhline(v * height / GRID, color="white", lw=0.6, alpha=0.7)
    left.set_xticks([v * width / GRID for v in range(0, GRID + 1, 200)], [str(v) for v in range(0, GRID + 1, 200)])
    left.set_yticks([v * height / GRID for v in range(0, GRID + 1, 200)], [str(v) for v in range(0, GRID + 1, 200)])
    left.plot(px + 0.5, py + 0.5, "o", ms=9, mfc="none", mec="red", mew=2)
    left.annotate(
        f"({point.x:g}, {point.y:g}) on the grid\n→ pixel ({px}, {py}) of {width}×{height}",
        (px, py),
        (px + 40, py + 90),
        color="white",
        fontsize=9,
        arrowprops={"arrowstyle": "->", "color": "white"},
    )
    left.set_title("grounding points: a 0–1000 grid over the frame, whatever its size")
    right.imshow(gui.render(), extent=(0, width, height, 0))
    cx, cy = gui.cursor
    step = GroundingSpace().max_turn_deg * GUI_PX_PER_DEGREE
    right.annotate("", (cx + step, cy), (cx, cy), arrowprops={"arrowstyle": "-|>", "color": "yellow", "lw": 2})
    right.text(
        cx + step / 2,
        cy - 12,
        f"{GroundingSpace().max_turn_deg:g}° of camera = {step:.1f} px\n({GUI_PX_PER_DEGREE:.3f} px per degree)",
        color="yellow",
        ha="center",
        fontsize=9,
    )
    right.set_title("in a GUI the camera moves the cursor: 2400/360 px per degree")
    for ax in (left, right):
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    right.set_xticks([])
    right.set_yticks([])
    fig.tight_layout()
    fig.savefig(out / "grounding_grid.png", dpi=100)
    plt.close(fig)


def camera_bins(out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    degrees = np.linspace(-12, 12, 2401)
    for ax, (name, quantizer) in zip(
        axes,
        [
            ("VPT / MineStudio: M=10, B=2, mu=10", VPT_CAMERA),
            ("OpenHA reserved tokens: M=10, B=1, mu=20", OPENHA_CAMERA),
        ],
        strict=True,
    ):
        ax.plot(degrees, degrees, color="#bbbbbb", lw=1, label="identity")
        ax.step(degrees, quantizer.decode(quantizer.encode(degrees)), where="mid", lw=1.6, label="decode(encode(x))")
        centres = quantizer.decode(np.arange(quantizer.n_bins))
        ax.plot(centres, centres, "o", ms=4, color="C1", label=f"the {quantizer.n_bins} bin values")
        for b in (0, quantizer.null_bin, quantizer.n_bins - 1):
            ax.annotate(f"bin {b}", (centres[b], centres[b]), (centres[b] + 0.6, centres[b] - 2.2), fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("camera in (degrees per tick)")
        ax.set_ylabel("camera out (degrees)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("mu-law camera bins: fine near zero, coarse far out, clipped at ±10°", fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "camera_bins.png", dpi=100)
    plt.close(fig)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for draw in (text_to_action, grounding_grid, camera_bins):
        draw(out)
        print(f"wrote {out / (draw.__name__ + '.png')}")


if __name__ == "__main__":
    main()
