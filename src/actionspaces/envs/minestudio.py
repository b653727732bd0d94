"""MineStudio's ``MinecraftSim`` behind CraftWorld's interface: MineRL action dicts in, counters and success out.

MineStudio cannot be installed here (its engine is a 458 MB download), so this adapter stays thin and
every conversion it does is a pure function with its own tests:

* :func:`to_sim_action`: a canonical action becomes MineStudio's ``'env'`` dict (19 keys, float camera;
  ``ESC``, ``drop`` and ``swapHands`` do not exist there and are reported, never silently lost) or its
  ``'agent'`` tokens (VPT's 8641 buttons × 121 camera bins, camera clipped to ±10° per tick first);
* :func:`inventory_counts`: MineStudio's slot-indexed ``info["inventory"]`` becomes item → count;
* :func:`reward_config`: a task id becomes the ``RewardsCallback`` entry that pays 1 on the first
  increment of the task's counter, which is how success is judged here too.

MineStudio is imported only when :class:`MineStudioEnv` is built, with a clear error when it is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from ..canonical import CanonicalAction
from ..state import GUI_PX_PER_DEGREE, ControlState, ViewState, wrap_degrees
from ..task_id import parse_task
from ..vpt import VPTTokenizer

__all__ = [
    "MINESTUDIO_ENV_KEYS",
    "UNSUPPORTED_KEYS",
    "MineStudioEnv",
    "inventory_counts",
    "reward_config",
    "to_sim_action",
]

#: The buttons MineStudio's ``'env'`` action type declares (plus ``camera``).
MINESTUDIO_ENV_KEYS: tuple[str, ...] = (
    "attack", "back", "forward", "jump", "left", "right", "sneak", "sprint", "use",
    *(f"hotbar.{i}" for i in range(1, 10)), "inventory",
)  # fmt: skip
#: Canonical buttons MineStudio does not have: pressing them there does nothing.
UNSUPPORTED_KEYS = frozenset({"ESC", "drop", "swapHands"})


def to_sim_action(
    action: CanonicalAction,
    action_type: Literal["env", "agent"] = "env",
    *,
    tokenizer: VPTTokenizer | None = None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """MineStudio's form of ``action``, and the pressed buttons it cannot express.

    Examples:
        >>> act = CanonicalAction(buttons=frozenset({"forward", "drop"}), camera=(0.0, 3.0))
        >>> env, dropped = to_sim_action(act)
        >>> env["forward"], env["camera"].tolist(), sorted(dropped), "drop" in env
        (1, [0.0, 3.0], ['drop'], False)
        >>> agent, _ = to_sim_action(CanonicalAction(), "agent")
        >>> agent["buttons"].tolist(), agent["camera"].tolist()
        ([0], [60])
    """
    unsupported = frozenset(action.buttons & UNSUPPORTED_KEYS)
    if action_type == "env":
        out: dict[str, Any] = {key: int(key in action.buttons) for key in MINESTUDIO_ENV_KEYS}
        out["camera"] = np.asarray(action.camera, dtype=np.float32)
        return out, unsupported
    if action_type != "agent":
        raise ValueError(f"action_type must be 'env' or 'agent', got {action_type!r}")
    tokenizer = tokenizer or VPTTokenizer()
    pitch, yaw = action.camera
    clipped = CanonicalAction(buttons=action.buttons - UNSUPPORTED_KEYS, camera=(_clip10(pitch), _clip10(yaw)))
    buttons, camera = tokenizer.encode(clipped)
    # fresh arrays every call: MinecraftSim.step pops these keys from the dict it is given
    return {"buttons": np.array([buttons]), "camera": np.array([camera])}, unsupported


def _clip10(value: float) -> float:
    return max(-10.0, min(10.0, value))


def inventory_counts(inventory: Mapping[Any, Any]) -> dict[str, int]:
    """Item → total count from MineStudio's ``{slot: {"type": name, "quantity": n}}`` (empty: ``none``/``air``).

    Examples:
        >>> inventory_counts({0: {"type": "oak_log", "quantity": 3}, 5: {"type": "oak_log", "quantity": 2},
        ...                   1: {"type": "none", "quantity": 0}, 2: {"type": "minecraft:stick", "quantity": 4}})
        {'oak_log': 5, 'stick': 4}
    """
    counts: dict[str, int] = {}
    for slot, entry in inventory.items():
        if not isinstance(entry, Mapping) or "type" not in entry or "quantity" not in entry:
            raise ValueError(f"inventory slot {slot!r} is not {{'type': ..., 'quantity': ...}}: {entry!r}")
        item = str(entry["type"]).removeprefix("minecraft:")
        quantity = int(entry["quantity"])
        if quantity < 0:
            raise ValueError(f"inventory slot {slot!r} has a negative quantity {quantity}")
        if item in ("none", "air", "") or quantity == 0:
            continue
        counts[item] = counts.get(item, 0) + quantity
    return counts


def reward_config(task: str) -> list[dict[str, Any]]:
    """The ``RewardsCallback`` entry that pays 1 once, on the first increment of the task's counter.

    Examples:
        >>> entry = reward_config("mine_block:oak_log")[0]
        >>> entry["event"], entry["objects"], entry["reward"], entry["max_reward_times"]
        ('mine_block', ['oak_log'], 1.0, 1)
    """
    category, item = parse_task(task)
    return [{"event": category, "identity": task, "objects": [item], "reward": 1.0, "max_reward_times": 1}]


class MineStudioEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """A MineStudio ``MinecraftSim`` with CraftWorld's interface (same action dicts, info keys and success).

    Args:
        task: an OpenHA task id such as ``"mine_block:oak_log"``.
        action_type: how actions reach the simulator: ``"env"`` dicts or ``"agent"`` VPT tokens.
        max_ticks: episode length (MineStudio's ``JudgeResetCallback``).
        sim_factory: builds the simulator from keyword arguments; defaults to ``MinecraftSim`` (tests pass
            a fake that follows the same contract).
        fov_deg: Minecraft's vertical field of view (70° by default), for pointing through the pinhole model.
        **sim_kwargs: passed to the simulator (``obs_size``, ``render_size``, ``seed``, ``inventory``, …).

    ``step`` takes a MineRL dict or a :class:`CanonicalAction`; ``info["unsupported"]`` lists pressed
    buttons MineStudio ignored. Observations gain ``pov`` (MineStudio's ``image``).

    ``control_state()`` (what the library's controllers read) comes from MineStudio's info: ``isGuiOpen``
    and the view angles of ``player_pos`` (without one, the sum of the camera actions sent outside a GUI).
    Minecraft does not report the GUI cursor, so the adapter tracks it as Minecraft moves it: to the
    window's centre when a GUI opens, then by each camera action it sent (2400/360 px per degree, the
    camera as the simulator received it, clipped to the window of ``render_size``, 640×360 by default).
    """

    def __init__(
        self,
        task: str,
        *,
        action_type: Literal["env", "agent"] = "env",
        max_ticks: int = 600,
        sim_factory: Callable[..., Any] | None = None,
        fov_deg: float = 70.0,
        **sim_kwargs: Any,
    ) -> None:
        parse_task(task)
        if action_type not in ("env", "agent"):
            raise ValueError(f"action_type must be 'env' or 'agent', got {action_type!r}")
        self.task = task
        self.action_type = action_type
        self.tokenizer = VPTTokenizer()
        if sim_factory is None:
            sim_factory = _minecraft_sim_factory(task, max_ticks)
        width, height = sim_kwargs.get("render_size", (640, 360))
        self._window = ViewState(width=int(width), height=int(height), fov_deg=fov_deg)
        self.sim = sim_factory(action_type=action_type, **sim_kwargs)
        self.action_space = CanonicalAction.space()
        self.observation_space = gym.spaces.Dict({})
        self._succeeded = False
        self._gui_open = False
        self._cursor = (width / 2, height / 2)
        self._angles = (0.0, 0.0)
        self._held: frozenset[str] = frozenset()
        self._pov: Any = None

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset the simulator."""
        super().reset(seed=seed)
        self._succeeded = False
        self._gui_open = False
        self._held = frozenset()
        self._angles = (0.0, 0.0)
        obs, info = self.sim.reset()
        out = self._info(info, frozenset())
        self._observe(obs, out)
        return _obs(obs), out

    def step(
        self, action: Mapping[str, Any] | CanonicalAction
    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One tick in the simulator."""
        act = action if isinstance(action, CanonicalAction) else CanonicalAction.from_env(action)
        sim_action, unsupported = to_sim_action(act, self.action_type, tokenizer=self.tokenizer)
        sent = act.camera
        if self.action_type == "agent":  # the camera as the simulator receives it: clipped and quantized
            sent = self.tokenizer.decode(int(sim_action["buttons"][0]), int(sim_action["camera"][0])).camera
        if self._gui_open:
            self._move_cursor(sent)
        else:  # dead reckoning, for a simulator that does not report player_pos (MinecraftSim does)
            pitch, yaw = self._angles
            self._angles = (max(-90.0, min(90.0, pitch + sent[0])), wrap_degrees(yaw + sent[1]))
        self._held = frozenset(act.buttons - UNSUPPORTED_KEYS)
        obs, reward, terminated, truncated, info = self.sim.step(sim_action)
        out = self._info(info, unsupported)
        self._observe(obs, out)
        success = _counter(out, self.task) > 0
        terminated = bool(terminated) or success
        first = success and not self._succeeded
        self._succeeded = self._succeeded or success
        del reward  # the RewardsCallback pays the same 1 on the first increment; success is read off the counters
        return _obs(obs), 1.0 if first else 0.0, terminated, bool(truncated), out

    def control_state(self) -> ControlState:
        """What a controller reads before the next tick (the :class:`~actionspaces.state.StateProvider` protocol)."""
        cursor = self._cursor if self._gui_open else None
        view = self._window.model_copy(update={"gui_open": self._gui_open, "cursor": cursor})
        pitch, yaw = self._angles
        return ControlState(view=view, pitch=pitch, yaw=yaw, held_keys=self._held, pov=self._pov)

    def _move_cursor(self, camera: tuple[float, float]) -> None:
        dpitch, dyaw = camera
        w, h = self._window.width, self._window.height
        x = min(float(w), max(0.0, self._cursor[0] + dyaw * GUI_PX_PER_DEGREE))
        y = min(float(h), max(0.0, self._cursor[1] + dpitch * GUI_PX_PER_DEGREE))
        self._cursor = (x, y)

    def _observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        """Update the tracked state from what the simulator just reported."""
        gui_open = bool(info["is_gui_open"])
        if gui_open and not self._gui_open:  # Minecraft centres the cursor when a screen opens
            self._cursor = (self._window.width / 2, self._window.height / 2)
        self._gui_open = gui_open
        pos = info.get("player_pos")
        if isinstance(pos, tuple) and len(pos) == 5:
            self._angles = (pos[3], pos[4])
        self._pov = obs.get("image", obs.get("pov"))

    def _info(self, info: Mapping[str, Any], unsupported: frozenset[str]) -> dict[str, Any]:
        out = dict(info)
        if isinstance(info.get("inventory"), Mapping):
            out["inventory"] = inventory_counts(info["inventory"])
        out["is_gui_open"] = bool(info.get("isGuiOpen", info.get("is_gui_open", False)))
        pos = info.get("player_pos")
        if isinstance(pos, Mapping):
            out["player_pos"] = tuple(float(pos.get(k, 0.0)) for k in ("x", "y", "z", "pitch", "yaw"))
        for category in ("mine_block", "kill_entity", "craft_item"):
            out.setdefault(category, {})
        out["unsupported"] = sorted(unsupported)
        out["task"] = self.task
        return out

    def render(self) -> Any:
        """The simulator's frame."""
        return self.sim.render()

    def close(self) -> None:
        """Close the simulator."""
        self.sim.close()


def _counter(info: Mapping[str, Any], task: str) -> int:
    category, item = parse_task(task)
    counters = info.get(category, {})
    return int(counters.get(item, 0)) if isinstance(counters, Mapping) else 0


def _obs(obs: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(obs)
    if "image" in out and "pov" not in out:
        out["pov"] = out["image"]
    return out


def _minecraft_sim_factory(task: str, max_ticks: int) -> Callable[..., Any]:
    try:
        sim_module = importlib.import_module("minestudio.simulator")
        callbacks = importlib.import_module("minestudio.simulator.callbacks")
    except ImportError as err:
        raise ImportError(
            "MineStudioEnv needs MineStudio (pip install 'actionspaces[minestudio]'), its engine (downloaded "
            "on first use) and Java with xvfb; use actionspaces.envs.CraftWorld when Minecraft is unavailable"
        ) from err

    def build(**kwargs: Any) -> Any:
        extra = [callbacks.RewardsCallback(reward_config(task)), callbacks.JudgeResetCallback(max_ticks)]
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), *extra]
        return sim_module.MinecraftSim(**kwargs)

    return build
