"""TextActionEnv as a gymnasium wrapper: over CraftWorld, gym.make output and MineStudio's contract fake."""

import json
import math
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from actionspaces import CanonicalAction, ChainSpace, RawSpace
from actionspaces.controllers import LatentCodebook, SkillPolicyController, default_controllers
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import craftworld_controllers
from actionspaces.envs.minestudio import MineStudioEnv
from actionspaces.envs.text import TextActionSpace
from actionspaces.gym_ids import CRAFTWORLD_ID, TEXT_CRAFTWORLD_ID
from actionspaces.state import GUI_PX_PER_DEGREE


class ContractSim:
    """MinecraftSim's contract, with enough of Minecraft to see controllers act.

    ``step`` takes MineStudio's ``env`` dict; the camera turns the view (``player_pos`` pitch/yaw) unless a
    GUI is open; ``inventory`` opens and closes the inventory on its 0→1 edge; attack held for 3 ticks
    mines one oak log; ``image`` is the 224×224 frame.
    """

    def __init__(self, action_type="env", **kwargs):
        self.kwargs = kwargs
        self.received = []

    def _obs(self):
        return {"image": np.zeros((224, 224, 3), np.uint8)}

    def _info(self):
        return {
            "inventory": {0: {"type": "oak_log", "quantity": self.mined}},
            "mine_block": {"oak_log": self.mined} if self.mined else {},
            "isGuiOpen": self.gui,
            "player_pos": {"x": 0.0, "y": 64.0, "z": 0.0, "pitch": self.pitch, "yaw": self.yaw},
        }

    def reset(self):
        self.pitch, self.yaw, self.gui, self.mined, self.attack, self.prev = 0.0, 0.0, False, 0, 0, set()
        return self._obs(), self._info()

    def step(self, action):
        self.received.append(action)
        pressed = {k for k, v in action.items() if k != "camera" and v}
        if "inventory" in pressed - self.prev:
            self.gui = not self.gui
        self.prev = pressed
        dpitch, dyaw = (float(c) for c in action["camera"])
        if not self.gui:
            self.pitch = max(-90.0, min(90.0, self.pitch + dpitch))
            self.yaw = (self.yaw + dyaw + 180.0) % 360.0 - 180.0
        self.attack = self.attack + 1 if "attack" in pressed and not self.gui else 0
        if self.attack >= 3:
            self.mined, self.attack = self.mined + 1, 0
        return self._obs(), 0.0, False, False, self._info()

    def render(self):
        return np.zeros((360, 640, 3), np.uint8)

    def close(self):
        self.closed = True


class FakeSkill:
    """A SkillPolicy: walks forward, and remembers what it was told."""

    def start(self, instruction, state):
        self.instruction = instruction

    def act(self, state):
        assert state.pov is not None and state.pov.shape == (224, 224, 3)
        return CanonicalAction(buttons=frozenset({"forward"}))


def codebook():
    turn = [CanonicalAction(camera=(0.0, 5.0))] * 4
    forward = [CanonicalAction(buttons=frozenset({"forward"}))] * 4
    return LatentCodebook.fit([turn, forward], size=2)


def minestudio_text_env(**kwargs):
    book = codebook()
    env = MineStudioEnv("mine_block:oak_log", sim_factory=ContractSim, **kwargs)
    controllers = default_controllers(codebook=book, skill_policy=FakeSkill())
    return TextActionEnv(env, controllers=controllers, codebook=book), book


def test_text_env_over_minestudio_executes_each_of_the_five_spaces():
    env, book = minestudio_text_env()
    sim = env.unwrapped.sim
    env.reset(seed=0)
    _, _, _, _, info = env.step("Action: move(0, 0) and press(w)")
    assert info["space"] == "raw" and sim.received[-1]["forward"] == 1
    _, _, _, _, info = env.step("Motion: turn right")
    assert info["space"] == "motion" and info["ticks"] == 4 and math.isclose(sim.yaw, 20.0)
    turn_code = book.encode([CanonicalAction(camera=(0.0, 5.0))] * 4)[0]
    _, _, _, _, info = env.step(f"Latent: <|latent_{turn_code}|>")
    assert info["space"] == "latent" and info["ticks"] == 4 and math.isclose(sim.yaw, 40.0)
    _, _, _, _, info = env.step("Skill: chop a tree")
    assert info["space"] == "language" and env.controllers["language"].policy.instruction == "chop a tree"
    assert all(a["forward"] == 1 for a in sim.received[-info["ticks"] :])
    # grounding: turn towards the point through the pinhole model, then mine (attack) for the budget
    _, reward, terminated, _, info = env.step("Grounding: Mine <|point_start|>(500,500)<|point_end|>")
    assert info["space"] == "grounding" and reward == 1.0 and terminated
    assert info["mine_block"] == {"oak_log": 1}
    json.dumps({k: v for k, v in info.items() if k != "inventory"})  # plain data


def test_minestudio_tracks_the_gui_cursor_as_minecraft_moves_it():
    env, _ = minestudio_text_env()
    env.reset(seed=0)
    env.step("Action: move(0, 0) and press(e)")  # open the inventory: the cursor starts at the centre
    state = env.unwrapped.control_state()
    assert state.gui_open and state.view.cursor_px == (320.0, 180.0)
    _, _, _, _, info = env.step("Grounding: Mine <|point_start|>(750,250)<|point_end|>")  # a click at a slot
    state = env.unwrapped.control_state()
    x, y = state.view.cursor_px
    assert info["space"] == "grounding" and abs(x - 480.0) <= 1.0 and abs(y - 90.0) <= 1.0
    sent = env.unwrapped.sim.received
    assert sent[-1]["attack"] == 1  # the verb's click, once the cursor is there
    moved = sum(float(a["camera"][1]) for a in sent[1:]) * GUI_PX_PER_DEGREE
    assert math.isclose(320.0 + moved, x, abs_tol=1e-3)  # the tracked cursor is what the camera actions add up to
    env.step("Action: move(0, 0) and press()")
    env.step("Action: move(0, 0) and press(e)")  # close
    assert not env.unwrapped.control_state().gui_open


def test_minestudio_skill_needs_a_policy_and_close_is_forwarded():
    env = TextActionEnv(MineStudioEnv("mine_block:oak_log", sim_factory=ContractSim))
    env.reset()
    _, _, _, _, info = env.step("Skill: chop a tree")
    assert info["space"] is None and "no controller executes 'language'" in info["parse_error"]
    env.close()
    assert env.unwrapped.sim.closed


def test_text_env_over_gym_make_craftworld():
    env = TextActionEnv(gym.make(CRAFTWORLD_ID), controllers=craftworld_controllers())
    env.reset(seed=1)
    for text, space in [
        ("Action: move(0, 0) and press(w)", "raw"),
        ("Motion: turn left", "motion"),
        ("Grounding: Mine <|point_start|>(500,500)<|point_end|>", "grounding"),
        ("Skill: chop the oak tree", "language"),
    ]:
        _, _, _, _, info = env.step(text)
        assert info["space"] == space, (text, info["parse_error"])
    assert isinstance(env.unwrapped, CraftWorld)


def test_check_env_passes_and_the_action_space_samples_valid_text():
    for env in (
        TextActionEnv(CraftWorld("mine_block:oak_log"), controllers=craftworld_controllers()),
        TextActionEnv(gym.make(CRAFTWORLD_ID)),
        gym.make(TEXT_CRAFTWORLD_ID, task="kill_entity:cow"),
    ):
        with pytest.warns(UserWarning):  # gymnasium's advice on Box ranges and wrapped envs, not failures
            check_env(env, skip_render_check=False)
        env.action_space.seed(0)
        samples = [env.action_space.sample() for _ in range(50)]
        assert all(s in env.action_space for s in samples)
        assert "Action: move(" not in env.action_space and 5 not in env.action_space


def test_text_action_space_samples_only_spaces_the_env_executes():
    env = TextActionEnv(CraftWorld())  # no language controller, no codebook
    env.action_space.seed(3)
    spaces = {env.chain.parse(env.action_space.sample()).executable.space for _ in range(200)}
    assert spaces == {"raw", "motion", "grounding"}
    with pytest.raises(ValueError, match="subset"):
        TextActionSpace(ChainSpace([RawSpace()]), ("motion",))


def test_text_env_registered_id_and_render_conventions():
    env = gym.make(TEXT_CRAFTWORLD_ID, task="mine_block:oak_log")
    assert env.spec.max_episode_steps == 100
    env.reset(seed=0)
    _, _, _, _, info = env.step("Skill: chop the oak tree")
    assert info["space"] == "language" and isinstance(info["chain"], dict) and info["parse_error"] is None
    assert env.render() is None
    frame = gym.make(TEXT_CRAFTWORLD_ID, render_mode="rgb_array")
    frame.reset(seed=0)
    assert frame.render().shape == (360, 640, 3)


def test_wrong_arguments_are_clear_errors():
    with pytest.raises(TypeError, match=r"TextActionEnv\(CraftWorld\('craft_item:stone_pickaxe'\)\)"):
        TextActionEnv("craft_item:stone_pickaxe")
    with pytest.raises(TypeError, match="control_state"):
        TextActionEnv(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="max_calls"):
        TextActionEnv(CraftWorld(), max_calls=0)
    with pytest.raises(TypeError, match=r"controllers\['raw'\]"):
        TextActionEnv(CraftWorld(), controllers={"raw": object()})
    with pytest.raises(TypeError, match="chain"):
        TextActionEnv(CraftWorld(), chain=RawSpace())


def test_env_ids_are_available_on_import_without_torch_or_the_simulator():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None
        import gymnasium as gym
        import actionspaces
        assert "actionspaces.envs.craftworld" not in sys.modules
        print(gym.spec("actionspaces/CraftWorld-v0").max_episode_steps, gym.spec("actionspaces/TextCraftWorld-v0").id)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2400", "actionspaces/TextCraftWorld-v0"]


def test_skill_policy_controller_over_minestudio_gets_the_frame():
    env = MineStudioEnv("mine_block:oak_log", sim_factory=ContractSim)
    text = TextActionEnv(env, controllers={"language": SkillPolicyController(FakeSkill(), ticks=3)})
    text.reset()
    _, _, _, _, info = text.step("Skill: chop a tree")
    assert info["ticks"] == 3 and info["space"] == "language"


def test_minestudio_without_player_pos_tracks_the_view_from_the_camera_it_sent():
    class NoPose(ContractSim):
        def _info(self):
            info = super()._info()
            del info["player_pos"]
            return info

    env = TextActionEnv(MineStudioEnv("mine_block:oak_log", sim_factory=NoPose))
    env.reset()
    env.step("Motion: turn left")
    state = env.unwrapped.control_state()
    assert math.isclose(state.yaw, -20.0) and state.pitch == 0.0
    env.step("Action: move(0, 0) and press(e)")  # a GUI: the camera moves the cursor, not the view
    env.step("Motion: cursor move right")
    assert math.isclose(env.unwrapped.control_state().yaw, -20.0)


def test_an_episode_never_runs_past_its_end_without_a_reset():
    env = TextActionEnv(CraftWorld(), max_calls=2)
    env.reset(seed=0)
    env.step("Action: no_op")
    *_, truncated, info = env.step("Action: no_op")
    assert truncated and info["calls"] == 2
    with pytest.raises(gym.error.ResetNeeded, match=r"over \(truncated after 2 calls\): call reset"):
        env.step("Action: no_op")
    env.reset(seed=1)
    assert env.step("Action: no_op")[-1]["calls"] == 1
