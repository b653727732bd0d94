"""CraftWorld's state and physics: a flat plane of block cells, mobs, the player, the view and the rules.

Coordinates are Minecraft's: ``x`` east, ``y`` up, ``z`` south; yaw 0 faces +z (south) and grows turning
right; pitch grows looking down. Blocks occupy integer cells ``(x, y, z)`` standing on the ground
(``y >= 0``); the ground itself is not mined. The player's feet are at ``y = 0`` and its eyes at 1.62.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ...state import angle_to, wrap_degrees
from .catalog import BLOCKS, MOBS, attack_cooldown, attack_damage, mining_ticks
from .inventory import Inventory

__all__ = [
    "EYE_HEIGHT",
    "REACH",
    "Camera",
    "Hit",
    "Mob",
    "Player",
    "World",
]

EYE_HEIGHT = 1.62
REACH = 4.5
PLAYER_RADIUS = 0.3
WALK, SPRINT, SNEAK = 4.317 / 20, 5.612 / 20, 1.295 / 20  # blocks per tick


@dataclass
class Mob:
    """A living mob: kind, position of its feet, heading, health and what it is doing."""

    id: int
    kind: str
    x: float
    z: float
    yaw: float = 0.0
    health: float = 0.0
    flee_ticks: int = 0
    turn_in: int = 0

    def box(self) -> tuple[float, float, float, float, float, float]:
        """``(x0, y0, z0, x1, y1, z1)``: the mob's hit box."""
        half = MOBS[self.kind].width / 2
        return self.x - half, 0.0, self.z - half, self.x + half, MOBS[self.kind].height, self.z + half


@dataclass
class Player:
    """Where the player is and looks, what it holds, and its inventory."""

    x: float = 0.5
    z: float = 0.5
    yaw: float = 0.0
    pitch: float = 0.0
    selected: int = 0
    inventory: Inventory = field(default_factory=Inventory)
    offhand: tuple[str, int] | None = None

    @property
    def held(self) -> str | None:
        """The item in the selected hotbar slot."""
        stack = self.inventory.slots[self.selected]
        return stack.item if stack is not None else None

    def eye(self) -> np.ndarray:
        """The eye position ``(x, y, z)``."""
        return np.array([self.x, EYE_HEIGHT, self.z])

    def forward(self) -> np.ndarray:
        """The unit view direction."""
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        return np.array([-math.sin(y) * math.cos(p), -math.sin(p), math.cos(y) * math.cos(p)])


@dataclass(frozen=True)
class Bearing:
    """Where a target lies from the player's eye: the camera turn that faces it, and its horizontal distance."""

    dpitch: float
    dyaw: float
    horizontal: float


@dataclass(frozen=True)
class Hit:
    """What the crosshair points at: a block cell or a mob, and how far."""

    kind: str  # "block" or "mob"
    name: str
    distance: float
    cell: tuple[int, int, int] | None = None
    mob_id: int | None = None


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: window size and vertical field of view (degrees)."""

    width: int = 640
    height: int = 360
    fov_deg: float = 70.0

    @property
    def focal(self) -> float:
        """Focal length in pixels."""
        return (self.height / 2) / math.tan(math.radians(self.fov_deg) / 2)

    def basis(self, yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(right, up, forward)`` unit vectors of the view (``up`` is right × forward)."""
        matrix = self.view_matrix(yaw, pitch)
        return matrix[:, 0], matrix[:, 1], matrix[:, 2]

    def view_matrix(self, yaw: float, pitch: float) -> np.ndarray:
        """The ``(3, 3)`` matrix whose columns are ``right``, ``up`` and ``forward``: ``d @ M`` is camera space."""
        y, p = math.radians(yaw), math.radians(pitch)
        sy, cy, sp, cp = math.sin(y), math.cos(y), math.sin(p), math.cos(p)
        return np.array([[-cy, -sy * sp, -sy * cp], [0.0, cp, -sp], [-sy, cy * sp, cy * cp]])

    def project(
        self, points: np.ndarray, eye: np.ndarray, yaw: float, pitch: float, matrix: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates ``(N, 2)`` of world points ``(N, 3)`` and their depth along the view.

        ``matrix`` is :meth:`view_matrix` of ``(yaw, pitch)``, when the caller has it already.
        """
        cam = (points - eye) @ (matrix if matrix is not None else self.view_matrix(yaw, pitch))  # right, up, depth
        depth = cam[:, 2]
        scale = self.focal / np.maximum(depth, 1e-6)
        out = np.empty((len(points), 2))
        out[:, 0] = self.width / 2 + cam[:, 0] * scale
        out[:, 1] = self.height / 2 - cam[:, 1] * scale
        return out, depth


class World:
    """Blocks, mobs and the player, with the rules that change them tick by tick.

    Counters (``mine_block``, ``kill_entity``, ``craft_item``) are cumulative, as MineStudio's.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.blocks: dict[tuple[int, int, int], str] = {}
        self.mobs: list[Mob] = []
        self.player = Player()
        self.tick = 0
        self.mine_block: Counter[str] = Counter()
        self.kill_entity: Counter[str] = Counter()
        self.craft_item: Counter[str] = Counter()
        self._solid_columns: set[tuple[int, int]] = set()
        self._mining: tuple[tuple[int, int, int], int] | None = None  # (cell, ticks so far)
        self._last_attack = -(10**9)
        self._next_mob_id = 0
        self.version = 0  # bumped whenever anything visible changes (caches key on it)
        self.block_version = 0  # bumped when a block is placed or removed
        self.object_cache: dict[object, object] = {}  # derived views of the blocks, keyed on block_version

    # --------------------------------------------------------------------------------- building
    def place(self, cell: tuple[int, int, int], block: str) -> None:
        """Put a block in a cell (replacing what was there)."""
        if block not in BLOCKS:
            raise ValueError(f"unknown block {block!r}")
        self.blocks[cell] = block
        if BLOCKS[block].solid and cell[1] < 2:
            self._solid_columns.add((cell[0], cell[2]))
        self.version += 1
        self.block_version += 1

    def clear(self) -> None:
        """Remove every block and mob (an empty plane; the player and counters stay)."""
        self.blocks.clear()
        self._solid_columns.clear()
        self.mobs.clear()
        self.version += 1
        self.block_version += 1

    def remove(self, cell: tuple[int, int, int]) -> str:
        """Take a block out of its cell; returns its name."""
        block = self.blocks.pop(cell)
        x, _, z = cell
        if not any((x, y, z) in self.blocks and BLOCKS[self.blocks[(x, y, z)]].solid for y in (0, 1)):
            self._solid_columns.discard((x, z))
        self.version += 1
        self.block_version += 1
        return block

    def tree(self, x: int, z: int, log: str = "oak_log", height: int = 4) -> None:
        """A column of logs with a small crown of leaves."""
        for y in range(height):
            self.place((x, y, z), log)
        for dx in (-1, 0, 1):
            for dz in (-1, 0, 1):
                if (dx, dz) != (0, 0):
                    self.place((x + dx, height - 1, z + dz), "oak_leaves")
        self.place((x, height, z), "oak_leaves")

    def spawn(self, kind: str, x: float, z: float) -> Mob:
        """Add a mob at full health facing a random direction."""
        if kind not in MOBS:
            raise ValueError(f"unknown mob {kind!r}")
        mob = Mob(self._next_mob_id, kind, x, z, float(self.rng.uniform(0, 360)), float(MOBS[kind].health))
        self._next_mob_id += 1
        self.mobs.append(mob)
        self.version += 1
        return mob

    def free(self, x: float, z: float, radius: float = PLAYER_RADIUS) -> bool:
        """Whether a body of ``radius`` at ``(x, z)`` overlaps no solid block."""
        cols = self._solid_columns
        if not cols:
            return True
        for cx in range(math.floor(x - radius), math.floor(x + radius) + 1):
            for cz in range(math.floor(z - radius), math.floor(z + radius) + 1):
                if (cx, cz) in cols:
                    return False
        return True

    # ------------------------------------------------------------------------------------ movement
    def walk(self, forward: int, strafe: int, sprint: bool, sneak: bool) -> None:
        """Move the player one tick: ``forward`` and ``strafe`` (right positive) in {-1, 0, 1}."""
        if not forward and not strafe:
            return
        speed = SNEAK if sneak else (SPRINT if sprint and forward > 0 else WALK)
        y = math.radians(self.player.yaw)
        fx, fz = -math.sin(y), math.cos(y)
        rx, rz = -math.cos(y), -math.sin(y)
        dx, dz = forward * fx + strafe * rx, forward * fz + strafe * rz
        norm = math.hypot(dx, dz)
        dx, dz = dx / norm * speed, dz / norm * speed
        p = self.player
        if self.free(p.x + dx, p.z):
            p.x += dx
        if self.free(p.x, p.z + dz):
            p.z += dz
        self.version += 1

    def turn(self, dpitch: float, dyaw: float) -> None:
        """Rotate the view; pitch is clamped to ±90°, yaw wraps to [-180, 180)."""
        p = self.player
        if dpitch or dyaw:
            p.pitch = min(90.0, max(-90.0, p.pitch + dpitch))
            p.yaw = wrap_degrees(p.yaw + dyaw)
            self.version += 1

    # ------------------------------------------------------------------------------------ targeting
    def raycast(self, reach: float = REACH, direction: np.ndarray | None = None) -> Hit | None:
        """The nearest block or mob on the crosshair's ray (or along ``direction``) within ``reach``."""
        p = self.player
        eye = p.eye()
        d = p.forward() if direction is None else direction / np.linalg.norm(direction)
        block = self._ray_block(eye, d, reach)
        best: Hit | None = block
        origin, ray = tuple(eye.tolist()), tuple(d.tolist())  # plain floats: the slab test runs per mob per tick
        for mob in self.mobs:
            t = _ray_box(origin, ray, mob.box())
            if t is not None and t <= reach and (best is None or t < best.distance):
                best = Hit("mob", mob.kind, t, mob_id=mob.id)
        return best

    def _ray_block(self, eye: np.ndarray, d: np.ndarray, reach: float) -> Hit | None:
        # Amanatides–Woo voxel traversal from the eye, in plain floats (this runs every tick).
        origin = (float(eye[0]), float(eye[1]), float(eye[2]))
        direction = (float(d[0]), float(d[1]), float(d[2]))
        cell = [math.floor(v) for v in origin]
        step = [1 if v > 0 else -1 for v in direction]
        t_max, t_delta = [math.inf] * 3, [math.inf] * 3
        for axis in range(3):
            if direction[axis] != 0:
                boundary = cell[axis] + (1 if direction[axis] > 0 else 0)
                t_max[axis] = (boundary - origin[axis]) / direction[axis]
                t_delta[axis] = abs(1 / direction[axis])
        blocks = self.blocks
        t = 0.0
        while t <= reach:
            key = (cell[0], cell[1], cell[2])
            name = blocks.get(key)
            if name is not None:
                return Hit("block", name, t, cell=key)
            if cell[1] < 0:
                return None  # the ground
            axis = 0 if t_max[0] <= t_max[1] and t_max[0] <= t_max[2] else (1 if t_max[1] <= t_max[2] else 2)
            t = t_max[axis]
            cell[axis] += step[axis]
            t_max[axis] += t_delta[axis]
        return None

    def aim_point(self, target: tuple[int, int, int] | int) -> tuple[float, float, float] | None:
        """Where to aim at a block cell or a mob id (a mob's body centre, at most 1.4 up); ``None`` if gone."""
        if isinstance(target, tuple):
            if target not in self.blocks:
                return None
            x, y, z = target
            return x + 0.5, y + 0.5, z + 0.5
        mob = next((m for m in self.mobs if m.id == target), None)
        if mob is None:
            return None
        return mob.x, min(MOBS[mob.kind].height * 0.5, 1.4), mob.z

    def bearing_to(self, target: tuple[int, int, int] | int) -> Bearing | None:
        """The camera turn that faces a block cell or mob id, and how far away it is; ``None`` if gone.

        >>> world = World(np.random.default_rng(0))
        >>> world.blocks[(3, 1, 0)] = "stone"
        >>> to = world.bearing_to((3, 1, 0))  # turn by (to.dpitch, to.dyaw), then walk to.horizontal blocks
        """
        point = self.aim_point(target)
        if point is None:
            return None
        p = self.player
        eye = p.eye()
        dx, dy, dz = point[0] - eye[0], point[1] - eye[1], point[2] - eye[2]
        pitch, yaw = angle_to(dx, dy, dz)
        return Bearing(dpitch=pitch - p.pitch, dyaw=wrap_degrees(yaw - p.yaw), horizontal=math.hypot(dx, dz))

    # ------------------------------------------------------------------------------------ actions
    def attack(self, hit: Hit | None) -> None:
        """One tick of holding attack on what the crosshair targets."""
        if hit is None:
            self._mining = None
            return
        if hit.kind == "block" and hit.cell is not None:
            cell = hit.cell
            ticks = self._mining[1] + 1 if self._mining is not None and self._mining[0] == cell else 1
            need, drops = mining_ticks(hit.name, self.player.held)
            if ticks >= need:
                self._mining = None
                block = self.remove(cell)
                self.mine_block[block] += 1
                if drops:
                    for item, count in BLOCKS[block].drops:
                        self.player.inventory.add(item, count)
            else:
                self._mining = (cell, ticks)
            return
        self._mining = None
        held = self.player.held
        if self.tick - self._last_attack < attack_cooldown(held):
            return
        self._last_attack = self.tick
        mob = next(m for m in self.mobs if m.id == hit.mob_id)
        mob.health -= attack_damage(held)
        mob.flee_ticks = 60
        if mob.health <= 0:
            self.mobs.remove(mob)
            self.kill_entity[mob.kind] += 1
            for item, count in MOBS[mob.kind].drops:
                self.player.inventory.add(item, count)
        self.version += 1

    def stop_mining(self) -> None:
        """Releasing attack resets the break progress, as in Minecraft."""
        self._mining = None

    @property
    def mining_progress(self) -> float:
        """How far the current block is broken, 0–1."""
        if self._mining is None:
            return 0.0
        cell, ticks = self._mining
        need, _ = mining_ticks(self.blocks[cell], self.player.held)
        return ticks / need

    # ------------------------------------------------------------------------------------ mobs
    def step_mobs(self) -> None:
        """Move every mob one tick: wander, flee after being hit, or (hostile) approach the player."""
        p = self.player
        for mob in self.mobs:
            info = MOBS[mob.kind]
            speed = info.speed
            if mob.flee_ticks > 0:
                mob.flee_ticks -= 1
                mob.yaw = math.degrees(math.atan2(-(mob.x - p.x), mob.z - p.z))  # away from the player
                speed *= 1.5
            elif info.behavior == "hostile" and math.hypot(mob.x - p.x, mob.z - p.z) < 16:
                mob.yaw = math.degrees(math.atan2(-(p.x - mob.x), p.z - mob.z))
                if math.hypot(mob.x - p.x, mob.z - p.z) < 1.5:
                    speed = 0.0
            else:
                mob.turn_in -= 1
                if mob.turn_in <= 0:
                    mob.turn_in = int(self.rng.integers(40, 100))
                    mob.yaw = float(self.rng.uniform(-180, 180))
                    if self.rng.random() < 0.5:  # stand still for a while
                        mob.turn_in = -mob.turn_in
                if mob.turn_in < 0:
                    speed = 0.0
            if speed:
                y = math.radians(mob.yaw)
                nx, nz = mob.x - math.sin(y) * speed, mob.z + math.cos(y) * speed
                half = info.width / 2
                if self.free(nx, nz, half):
                    mob.x, mob.z = nx, nz
                else:
                    mob.turn_in = 0
                self.version += 1


def _ray_box(
    origin: tuple[float, ...], d: tuple[float, ...], box: tuple[float, float, float, float, float, float]
) -> float | None:
    """Distance along the ray to the box (slab test), or ``None``."""
    t0, t1 = 0.0, math.inf
    for axis in range(3):
        lo, hi = box[axis], box[axis + 3]
        if abs(d[axis]) < 1e-12:
            if not lo <= origin[axis] <= hi:
                return None
            continue
        a, b = (lo - origin[axis]) / d[axis], (hi - origin[axis]) / d[axis]
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return None
    return t0
