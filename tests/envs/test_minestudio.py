"""The MineStudio adapter's conversions, against a fake MinecraftSim that follows the documented contract."""

import sys

import numpy as np
import pytest

from actionspaces import CanonicalAction, VPTTokenizer
from actionspaces.envs.minestudio import (
    MINESTUDIO_ENV_KEYS,
    MineStudioEnv,
    inventory_counts,
    reward_config,
    to_sim_action,
)


class FakeSim:
    """MinecraftSim's contract: step pops the agent keys it is given; info has slot-indexed inventory."""

    def __init__(self, action_type="env", **kwargs):
        self.action_type = action_type
        self.kwargs = kwargs
        self.received = []
        self.mined = 0

    def reset(self):
        return {"image": np.zeros((360, 640, 3), np.uint8)}, self._info()

    def _info(self):
        return {
            "inventory": {
                0: {"type": "wooden_axe", "quantity": 1},
                1: {"type": "oak_log", "quantity": self.mined},
                2: {"type": "none", "quantity": 0},
            },
            "mine_block": {"oak_log": self.mined},
            "isGuiOpen": False,
            "player_pos": {"x": 1.0, "y": 64.0, "z": 2.0, "pitch": 0.0, "yaw": 90.0},
        }

    def step(self, action):
        if self.action_type == "agent":
            self.received.append((action.pop("buttons")[0], action.pop("camera")[0]))
        else:
            self.received.append(dict(action))
            if action.get("attack"):
                self.mined += 1
        return {"image": np.zeros((360, 640, 3), np.uint8)}, 0.0, False, False, self._info()

    def render(self):
        return np.zeros((360, 640, 3), np.uint8)

    def close(self):
        pass


def test_env_dict_has_minestudios_keys_and_reports_unsupported_buttons():
    action = CanonicalAction(buttons=frozenset({"attack", "ESC", "swapHands"}), camera=(1.5, -20.0))
    out, unsupported = to_sim_action(action)
    assert set(out) == {*MINESTUDIO_ENV_KEYS, "camera"} and out["attack"] == 1
    assert out["camera"].dtype == np.float32 and out["camera"].tolist() == [1.5, -20.0]
    assert unsupported == {"ESC", "swapHands"}


def test_agent_tokens_clip_the_camera_to_ten_degrees_first():
    tok = VPTTokenizer()
    out, _ = to_sim_action(CanonicalAction(buttons=frozenset({"forward"}), camera=(0.0, 25.0)), "agent")
    buttons, camera = out["buttons"][0], out["camera"][0]
    decoded = tok.decode(buttons, camera)
    assert decoded.buttons == {"forward"} and decoded.camera == (0.0, 10.0)
    with pytest.raises(ValueError, match="action_type"):
        to_sim_action(CanonicalAction(), "tokens")


def test_inventory_counts_and_errors():
    assert inventory_counts({}) == {}
    assert inventory_counts({3: {"type": "air", "quantity": 64}}) == {}
    with pytest.raises(ValueError, match="slot 4"):
        inventory_counts({4: {"type": "stick"}})
    with pytest.raises(ValueError, match="negative"):
        inventory_counts({4: {"type": "stick", "quantity": -1}})


def test_reward_config_per_task():
    assert reward_config("kill_entity:cow")[0]["objects"] == ["cow"]
    with pytest.raises(ValueError, match="category"):
        reward_config("smelt:iron_ingot")


def test_env_wrapper_converts_and_judges_success_from_counters():
    env = MineStudioEnv("mine_block:oak_log", sim_factory=FakeSim, seed=3)
    assert env.sim.kwargs == {"seed": 3}
    obs, info = env.reset()
    assert "pov" in obs and info["inventory"] == {"wooden_axe": 1} and info["player_pos"] == (1.0, 64.0, 2.0, 0.0, 90.0)
    obs, reward, terminated, _, info = env.step({"forward": 1, "drop": 1})
    assert reward == 0.0 and not terminated and info["unsupported"] == ["drop"]
    obs, reward, terminated, _, info = env.step(CanonicalAction(buttons=frozenset({"attack"})))
    assert reward == 1.0 and terminated and info["inventory"]["oak_log"] == 1
    _, reward, _, _, _ = env.step({"attack": 1})
    assert reward == 0.0  # paid once, as RewardsCallback with max_reward_times=1


def test_agent_mode_sends_fresh_token_arrays_each_step():
    env = MineStudioEnv("mine_block:oak_log", action_type="agent", sim_factory=FakeSim)
    env.reset()
    env.step({})
    env.step({"forward": 1})
    assert env.sim.received[0] == (0, 60)  # MineStudio's noop tokens
    assert env.sim.received[1][0] != 0


def test_missing_minestudio_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "minestudio", None)
    with pytest.raises(ImportError, match="MineStudio"):
        MineStudioEnv("mine_block:oak_log")
