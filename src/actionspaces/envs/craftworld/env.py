"""``CraftWorld``: the gymnasium environment that speaks MineRL 1.0's action dict exactly.

One ``step`` is one game tick (20 Hz). Keys are held states (``forward``, ``attack``, ``use``, … act
every tick they are 1); ``inventory``, ``ESC``, ``hotbar.N``, ``drop`` and ``swapHands`` fire once on
the 0→1 edge, and so do clicks in a GUI. With no GUI open, ``camera = [Δpitch, Δyaw]`` turns the view;
with a GUI open it moves the cursor at 2400/360 px per degree, clipped to the window.
"""

from __future__ import annotations

import copy
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from ...canonical import HOTBAR, CanonicalAction
from ...gym_ids import CRAFTWORLD_MAX_TICKS
from ...spaces.grounding import Point
from ...state import GUI_PX_PER_DEGREE, ControlState, ViewState
from .catalog import BLOCKS, MOBS, world_data
from .gui import Screen, SlotRef
from .inventory import INVENTORY_SLOTS
from .recipes import RecipeBook
from .setup import setup_task
from .tasks import Task, get_task
from .world import Camera, Hit, World

__all__ = ["ITEMS", "TEXT_CHARSET", "CraftWorld", "CraftWorldState", "VisibleObject"]

#: Every item CraftWorld knows, in the order of the ``inventory`` observation vector.
ITEMS: tuple[str, ...] = tuple(
    sorted(
        set(world_data()["items"])
        | {d for b in BLOCKS.values() for d, _ in b.drops}
        | {d for m in MOBS.values() for d, _ in m.drops}
    )
)
_ITEM_INDEX = {item: i for i, item in enumerate(ITEMS)}
TEXT_CHARSET = frozenset(string.ascii_letters + string.digits + string.punctuation + " \n")
_MAX_TEXT = 4096
_VIEW_RANGE = 16.0
_MAX_OBJECTS = 8
_NO_BOX = (0.0, 0.0, 0.0, 0.0)
_MOB_HALF = {kind: (m.width / 2, m.height / 2, m.width / 2) for kind, m in MOBS.items()}  # box half sizes
_CORNER_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)


class VisibleObject(tuple[str, str, float, float, float, tuple[float, float, float, float]]):
    """``(kind, name, x_px, y_px, distance, box)``: an object in view, its centre and screen box in pixels."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """``"block"`` or ``"mob"``."""
        return self[0]

    @property
    def name(self) -> str:
        """Block or mob name."""
        return self[1]

    @property
    def pixel(self) -> tuple[float, float]:
        """The centre's window pixel."""
        return self[2], self[3]

    @property
    def distance(self) -> float:
        """Distance from the eye, in blocks."""
        return self[4]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` in window pixels."""
        return self[5]


@dataclass(frozen=True, kw_only=True)
class CraftWorldState(ControlState):
    """CraftWorld's :class:`~actionspaces.state.ControlState`, with the env itself for its oracles.

    The library's controllers read only the public fields; CraftWorld's oracles
    (:mod:`actionspaces.envs.craftworld.oracles`) read the simulator through ``env``, and say so.
    """

    env: CraftWorld


class CraftWorld(gym.Env[dict[str, Any], dict[str, Any]]):
    """A small, fast, deterministic Minecraft-like world (see the CraftWorld docs page).

    Args:
        task: a task id (``"mine_block:oak_log"``) or :class:`Task`; ``reset(options={"task": ...})``
            switches it.
        max_ticks: the episode is truncated after this many ticks.
        width, height, fov_deg: the window and the camera's vertical field of view.
        pov: put the rendered frame in every observation (:meth:`frame` always renders one).
        render_mode: ``"rgb_array"`` (``render()`` returns the frame) or ``None`` (``render()`` returns
            ``None``, as gymnasium specifies).

    Examples:
        >>> env = CraftWorld("mine_block:oak_log")
        >>> obs, info = env.reset(seed=0)
        >>> obs["text"].splitlines()[0]
        'task: mine_block:oak_log'
        >>> obs, reward, terminated, truncated, info = env.step({"forward": 1})
        >>> info["player_pos"][:3] != (0.5, 0.0, 0.5), info["mine_block"]
        (True, {})
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}  # noqa: RUF012 - gymnasium's convention

    def __init__(
        self,
        task: str | Task = "mine_block:oak_log",
        *,
        max_ticks: int = CRAFTWORLD_MAX_TICKS,
        width: int = 640,
        height: int = 360,
        fov_deg: float = 70.0,
        pov: bool = False,
        render_mode: Literal["rgb_array"] | None = None,
    ) -> None:
        self.task = get_task(task)
        if max_ticks < 1:
            raise ValueError(f"max_ticks must be >= 1, got {max_ticks}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.max_ticks = max_ticks
        self.camera = Camera(width, height, fov_deg)
        self.pov = pov
        self.render_mode = render_mode
        self.book = RecipeBook.default()
        self.action_space = CanonicalAction.space()
        spaces: dict[str, gym.Space[Any]] = {
            "text": gym.spaces.Text(_MAX_TEXT, min_length=0, charset=TEXT_CHARSET),
            "inventory": gym.spaces.Box(0, 64 * INVENTORY_SLOTS, (len(ITEMS),), np.int32),
            "gui_open": gym.spaces.Discrete(2),
            "cursor": gym.spaces.Box(np.zeros(2, np.float32), np.array([width, height], np.float32), (2,), np.float32),
            "pitch": gym.spaces.Box(-90.0, 90.0, (), np.float32),
            "yaw": gym.spaces.Box(-180.0, 180.0, (), np.float32),
        }
        if pov:
            spaces["pov"] = gym.spaces.Box(0, 255, (height, width, 3), np.uint8)
        self.observation_space = gym.spaces.Dict(spaces)
        self.world = World(np.random.default_rng(0))
        self.screen: Screen | None = None
        self.cursor = (width / 2, height / 2)
        self._pressed: set[str] = set()
        self._gui_version = 0
        self._text_cache: tuple[tuple[int, int], str] | None = None
        self._view_cache: ViewState | None = None
        self._last_pov: np.ndarray | None = None
        self._done = False

    # ------------------------------------------------------------------------------------ gymnasium
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode of the task (``options={"task": id}`` switches task first)."""
        super().reset(seed=seed)
        if options and "task" in options:
            task = options["task"]
            self.task = get_task(task)
        self.world = World(self.np_random)
        self.screen = None
        self.cursor = (self.camera.width / 2, self.camera.height / 2)
        self._pressed = set()
        self._text_cache = None
        self._done = False
        screen = setup_task(self.world, self.task, self.np_random)
        if screen is not None:
            self._open(screen)
        return self._observation(), self._info()

    def step(
        self, action: Mapping[str, Any] | CanonicalAction
    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Advance one tick with a MineRL action dict (missing keys are 0) or a :class:`CanonicalAction`."""
        act = action if isinstance(action, CanonicalAction) else CanonicalAction.from_env(action)
        pressed: set[str] = set(act.buttons)
        edges = pressed - self._pressed
        self._pressed = pressed
        world = self.world
        for i, key in enumerate(HOTBAR):
            if key in edges:
                world.player.selected = i
                world.version += 1
        if "drop" in edges and world.player.held is not None and self.screen is None:
            world.player.inventory.remove(world.player.held, 1)
            world.version += 1
        if "swapHands" in edges and self.screen is None:
            self._swap_hands()
        if "ESC" in edges and self.screen is not None:
            self._close()
        elif "inventory" in edges:
            if self.screen is None:
                self._open("inventory")
            else:
                self._close()
        elif self.screen is not None:
            self._gui_tick(act, edges)
        else:
            self._world_tick(act, pressed, edges)
        world.step_mobs()
        world.tick += 1

        success = (
            self.counters[self.task.category][self.task.target] > 0
        )  # MineStudio's RewardsCallback: the counter's first increment
        reward = 1.0 if success and not self._done else 0.0
        terminated = success
        self._done = self._done or success
        truncated = world.tick >= self.max_ticks and not terminated
        return self._observation(), reward, terminated, truncated, self._info()

    def render(self) -> np.ndarray | None:
        """The frame when ``render_mode="rgb_array"``; ``None`` when no render mode was asked for."""
        return self.frame() if self.render_mode == "rgb_array" else None

    def frame(self) -> np.ndarray:
        """The first-person frame (``height × width × 3`` uint8), with the cursor drawn in a GUI."""
        from .render import render_frame

        return render_frame(self)

    # ------------------------------------------------------------------------------------ ticks
    def _world_tick(self, act: CanonicalAction, pressed: set[str], edges: set[str]) -> None:
        world = self.world
        world.turn(*act.camera)
        forward = ("forward" in pressed) - ("back" in pressed)
        strafe = ("right" in pressed) - ("left" in pressed)
        world.walk(forward, strafe, "sprint" in pressed, "sneak" in pressed)
        hit: Hit | None = None
        if "attack" in pressed or "use" in edges:
            hit = world.raycast()
        if "attack" in pressed:
            world.attack(hit)
        else:
            world.stop_mining()
        if "use" in edges and hit is not None and hit.name == "crafting_table":
            self._open("crafting_table")

    def _gui_tick(self, act: CanonicalAction, edges: set[str]) -> None:
        assert self.screen is not None
        dpitch, dyaw = act.camera
        if dpitch or dyaw:
            x = min(self.camera.width - 1e-3, max(0.0, self.cursor[0] + dyaw * GUI_PX_PER_DEGREE))
            y = min(self.camera.height - 1e-3, max(0.0, self.cursor[1] + dpitch * GUI_PX_PER_DEGREE))
            self.cursor = (x, y)
            self._gui_version += 1
        shift = "sneak" in act.buttons
        clicks: tuple[tuple[str, Literal["left", "right"]], ...] = (("attack", "left"), ("use", "right"))
        for key, button in clicks:
            if key in edges:
                self.screen.click_at(
                    *self.cursor,
                    button,
                    shift=shift,
                    inventory=self.world.player.inventory,
                    crafted=self.world.craft_item,
                )
                self._gui_version += 1

    def _open(self, kind: str) -> None:
        self.screen = Screen(kind, self.camera.width, self.camera.height, self.book)  # type: ignore[arg-type]
        self.cursor = (self.camera.width / 2, self.camera.height / 2)
        self.world.stop_mining()
        self._gui_version += 1

    def _close(self) -> None:
        if self.screen is not None:
            self.screen.close(self.world.player.inventory)
        self.screen = None
        self._gui_version += 1

    def _swap_hands(self) -> None:
        player = self.world.player
        slots = player.inventory.slots
        main = slots[player.selected]
        off = player.offhand
        slots[player.selected] = None
        if off is not None:
            player.inventory.add(off[0], off[1], order=[player.selected])
        player.offhand = (main.item, main.count) if main is not None else None
        self.world.version += 1

    # ------------------------------------------------------------------------------------ views
    def view_state(self) -> ViewState:
        """What a high-level action's ``canonicalize`` needs: window, field of view, GUI flag, cursor."""
        cursor = self.cursor if self.screen is not None else None
        cached = self._view_cache
        if cached is not None and cached.cursor == cursor and cached.gui_open == (self.screen is not None):
            return cached
        cam = self.camera
        self._view_cache = ViewState(
            gui_open=self.screen is not None, width=cam.width, height=cam.height, fov_deg=cam.fov_deg, cursor=cursor
        )
        return self._view_cache

    def control_state(self) -> CraftWorldState:
        """What a controller reads before the next tick (the :class:`~actionspaces.state.StateProvider` protocol)."""
        player = self.world.player
        return CraftWorldState(
            view=self.view_state(),
            pitch=player.pitch,
            yaw=player.yaw,
            held_keys=frozenset(self._pressed),
            pov=self._last_pov,
            env=self,
        )

    def visible_objects(
        self, max_distance: float = _VIEW_RANGE, *, every_block: bool = False, limit: int | None = None
    ) -> list[VisibleObject]:
        """Blocks and mobs whose centre is in view within ``max_distance``, nearest first (at most ``limit``).

        By default a column of one block kind (a tree trunk) is one object, at its lowest block, and leaves
        are left out; ``every_block=True`` lists each block (what the renderer draws).
        """
        return self._visible(max_distance, every_block, limit, boxes=True)

    def _visible(self, max_distance: float, every_block: bool, limit: int | None, boxes: bool) -> list[VisibleObject]:
        """:meth:`visible_objects`; without ``boxes`` each box is left empty (the text observation needs none)."""
        world = self.world
        player = world.player
        names, centres, halves = self._block_objects(every_block)
        if world.mobs:
            names = names + [("mob", m.kind) for m in world.mobs]
            mob_h = np.array([_MOB_HALF[m.kind] for m in world.mobs])
            mob_c = np.array([(m.x, 0.0, m.z) for m in world.mobs])
            mob_c[:, 1] = mob_h[:, 1]
            centres, halves = np.concatenate([centres, mob_c]), np.concatenate([halves, mob_h])
        if not names:
            return []
        eye = player.eye()
        matrix = self.camera.view_matrix(player.yaw, player.pitch)
        dist = np.sqrt(((centres - eye) ** 2).sum(1))
        pix, depth = self.camera.project(centres, eye, player.yaw, player.pitch, matrix)
        w, h = self.camera.width, self.camera.height
        keep = (depth > 0.2) & (dist <= max_distance) & (pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0)
        keep &= pix[:, 1] < h
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(dist[idx], kind="stable")][:limit]
        if len(idx) == 0:
            return []
        if not boxes:
            return [VisibleObject((names[i][0], names[i][1], float(pix[i, 0]), float(pix[i, 1]), float(dist[i]),
                                   _NO_BOX)) for i in idx]  # fmt: skip
        # screen boxes from the 8 corners of each kept object's box
        corners = centres[idx, None, :] + _CORNER_SIGNS[None] * halves[idx, None, :]
        cpix, _ = self.camera.project(corners.reshape(-1, 3), eye, player.yaw, player.pitch, matrix)
        cpix = cpix.reshape(len(idx), 8, 2)
        lo, hi = cpix.min(1), cpix.max(1)
        return [
            VisibleObject(
                (
                    names[i][0],
                    names[i][1],
                    float(pix[i, 0]),
                    float(pix[i, 1]),
                    float(dist[i]),
                    (float(lo[k, 0]), float(lo[k, 1]), float(hi[k, 0]), float(hi[k, 1])),
                )
            )
            for k, i in enumerate(idx)
        ]

    def _block_objects(self, every_block: bool) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
        """Names, centres and half sizes of the blocks as objects; cached until a block changes."""
        key = (self.world.block_version, every_block)
        cache = self.world.object_cache
        cached = cache.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        blocks = self.world.blocks
        names, centres = [], []
        for (x, y, z), name in blocks.items():
            # one object per column of the same block (a tree trunk is one object: its lowest log)
            if every_block or (name != "oak_leaves" and blocks.get((x, y - 1, z)) != name):
                names.append(("block", name))
                centres.append((x + 0.5, y + 0.5, z + 0.5))
        arrays = (names, np.array(centres).reshape(-1, 3), np.full((len(centres), 3), 0.5))
        if len(cache) > 8:
            cache.clear()
        cache[key] = arrays
        return arrays

    def grid_point(self, px: float, py: float) -> tuple[int, int]:
        """The 0–1000 grid point of window position ``(px, py)`` (:meth:`Point.from_position`, the one rule)."""
        point = Point.from_position(px, py, self.camera.width, self.camera.height)
        return int(point.x), int(point.y)

    def text(self) -> str:
        """The deterministic text observation (same state ⇒ same text)."""
        key = (self.world.version, self._gui_version)
        if self._text_cache is not None and self._text_cache[0] == key:
            return self._text_cache[1]
        player = self.world.player
        lines = [f"task: {self.task.id}"]
        if self.screen is None:
            hit = self.world.raycast()
            lines.append("gui: none")
            lines.append(f"holding: {player.held or 'nothing'}")
            lines.append(f"view: pitch {player.pitch:.1f} yaw {player.yaw:.1f}")
            lines.append(f"crosshair: {hit.name} {hit.distance:.1f}m" if hit is not None else "crosshair: nothing")
            lines.append("objects:")
            for obj in self._visible(_VIEW_RANGE, False, _MAX_OBJECTS, boxes=False):
                gx, gy = self.grid_point(*obj.pixel)
                lines.append(f"- {obj.name} ({gx},{gy}) {obj.distance:.1f}m")
        else:
            screen = self.screen
            gx, gy = self.grid_point(*self.cursor)
            held = f"{screen.cursor.item} x{screen.cursor.count}" if screen.cursor else "nothing"
            lines.append(f"gui: {screen.kind}")
            lines.append(f"cursor: ({gx},{gy}) holding {held}")
            recipe = screen.result()
            slots: list[tuple[SlotRef, str]] = [(ref, f"{s.item} x{s.count}") for ref, s in screen.contents()]
            if recipe is not None:
                slots.insert(0, (SlotRef("result", 0), f"{recipe.result} x{recipe.count}"))
            for i, stack in enumerate(player.inventory.slots):
                if stack is not None:
                    slots.append((SlotRef("inventory", i), f"{stack.item} x{stack.count}"))
            lines.append("slots:")
            for ref, content in slots:
                sx, sy = self.grid_point(*screen.slot_centre(ref))
                lines.append(f"- {ref} {content} ({sx},{sy})")
        text = "\n".join(lines)
        self._text_cache = (key, text)
        return text

    def _observation(self) -> dict[str, Any]:
        player = self.world.player
        inventory = np.zeros(len(ITEMS), np.int32)
        for stack in player.inventory.slots:
            if stack is not None:
                inventory[_ITEM_INDEX[stack.item]] += stack.count
        obs: dict[str, Any] = {
            "text": self.text(),
            "inventory": inventory,
            "gui_open": int(self.screen is not None),
            "cursor": np.array(self.cursor, np.float32),
            "pitch": np.array(player.pitch, np.float32),
            "yaw": np.array(player.yaw, np.float32),
        }
        if self.pov:
            obs["pov"] = self._last_pov = self.frame()
        return obs

    def _info(self) -> dict[str, Any]:
        world = self.world
        p = world.player
        return {
            "task": self.task.id,
            "mine_block": dict(world.mine_block),
            "kill_entity": dict(world.kill_entity),
            "craft_item": dict(world.craft_item),
            "is_gui_open": self.screen is not None,
            "gui": self.screen.kind if self.screen is not None else None,
            "player_pos": (p.x, 0.0, p.z, p.pitch, p.yaw),
            "inventory": p.inventory.counts(),
            "ticks": world.tick,
        }

    # helpers for controllers, experts and labelers -------------------------------------------
    def clone(self) -> CraftWorld:
        """An independent copy of the env in its current state (the recipe book is shared)."""
        other = copy.copy(self)
        other.world = copy.deepcopy(self.world)
        other._np_random = other.world.rng
        other.screen = copy.deepcopy(self.screen, memo={id(self.book): self.book})
        other._pressed = set(self._pressed)
        return other

    def object_at(self, px: float, py: float, reach: float = 64.0) -> Hit | None:
        """The nearest block or mob seen at window pixel ``(px, py)`` (the simulator's exact segmentation)."""
        player = self.world.player
        right, up, forward = self.camera.basis(player.yaw, player.pitch)
        f = self.camera.focal
        direction = forward + (px - self.camera.width / 2) / f * right - (py - self.camera.height / 2) / f * up
        return self.world.raycast(reach, direction)

    def crosshair(self) -> Hit | None:
        """What the crosshair targets (``None`` in a GUI or when nothing is within reach)."""
        return None if self.screen is not None else self.world.raycast()

    @property
    def counters(self) -> dict[str, Counter[str]]:
        """The cumulative MineStudio-style counters."""
        return {
            "mine_block": self.world.mine_block,
            "kill_entity": self.world.kill_entity,
            "craft_item": self.world.craft_item,
        }
