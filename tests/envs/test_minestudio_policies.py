"""MineStudio's learned controllers (STEVE-1, GROOT, ROCKET-1) behind the protocols, with contract fakes."""

import numpy as np
import pytest
from test_text_env import ContractSim

from actionspaces import CanonicalAction, ViewState, VPTTokenizer
from actionspaces.controllers import GroundingController, SkillPolicyController
from actionspaces.envs import TextActionEnv
from actionspaces.envs.minestudio import MineStudioEnv
from actionspaces.integrations.minestudio import (
    ROCKET1_INTERACTIONS,
    MineStudioSkillPolicy,
    Rocket1PointingPolicy,
    agent_action,
)
from actionspaces.state import ControlState

TOKENS = VPTTokenizer()
ATTACK = TOKENS.encode(CanonicalAction(buttons=frozenset({"attack"})))


class FakeMinePolicy:
    """MinePolicy.get_action's contract: (input, state_in, deterministic, input_shape) -> (action, state_out)."""

    def __init__(self, tokens=ATTACK):
        self.inputs, self.memories, self.tokens = [], [], tokens
        self.condition = "stale"  # GROOT caches its encoded reference video here

    def prepare_condition(self, instruction):
        assert "cond_scale" in instruction and "text" in instruction  # STEVE-1's assertion
        return {"cond_scale": instruction["cond_scale"], "mineclip_embeds": instruction["text"]}

    def get_action(self, input, state_in, deterministic=False, input_shape="*"):
        assert input_shape == "*" and input["image"].ndim == 3
        self.inputs.append(input)
        self.memories.append(state_in)
        return {"buttons": np.array([self.tokens[0]]), "camera": np.array([self.tokens[1]])}, len(self.inputs)


class FakeSegmenter:
    def __init__(self):
        self.points, self.tracked = [], 0

    def segment(self, frame, point):
        self.points.append(point)
        mask = np.zeros(frame.shape[:2], np.uint8)
        mask[int(point[1]), int(point[0])] = 1
        return mask

    def track(self, frame):
        self.tracked += 1
        return np.zeros(frame.shape[:2], np.uint8)


def state(frame=True):
    pov = np.zeros((224, 224, 3), np.uint8) if frame else None
    return ControlState(view=ViewState(), pitch=0.0, yaw=0.0, pov=pov)


def test_steve1_conditions_on_the_text_and_keeps_its_memory():
    model = FakeMinePolicy()
    policy = MineStudioSkillPolicy.steve1(model, cond_scale=6.0)
    policy.start("chop a tree", state())
    assert policy.act(state()) == CanonicalAction(buttons=frozenset({"attack"}))
    policy.act(state())
    assert model.inputs[0]["condition"] == {"cond_scale": 6.0, "mineclip_embeds": "chop a tree"}
    assert model.memories == [None, 1]  # a fresh memory per skill, then the model's own
    policy.start("hunt a cow", state())
    policy.act(state())
    assert model.memories[-1] is None and model.inputs[-1]["condition"]["mineclip_embeds"] == "hunt a cow"
    with pytest.raises(ValueError, match="frame"):
        policy.act(state(frame=False))


def test_groot_takes_a_reference_video_and_clears_its_cache():
    model = FakeMinePolicy()
    policy = MineStudioSkillPolicy.groot(model, {"chop a tree": "videos/chop.mp4"})
    policy.start("chop a tree", state())
    assert model.condition is None
    policy.act(state())
    assert model.inputs[0]["ref_video_path"] == "videos/chop.mp4"
    with pytest.raises(KeyError, match="no reference video"):
        policy.start("dance", state())
    with pytest.raises(TypeError, match="get_action"):
        MineStudioSkillPolicy(object(), lambda text: {})


def test_rocket1_masks_the_point_and_tracks_it():
    model, segmenter = FakeMinePolicy(), FakeSegmenter()
    pointer = Rocket1PointingPolicy(model, segmenter)
    pointer.start("mine", (320.0, 180.0), state())  # the window's centre is the frame's centre
    assert segmenter.points == [(112.0, 112.0)]
    pointer.act(state())
    pointer.act(state())
    first, second = model.inputs
    assert first["segment"]["obj_id"] == ROCKET1_INTERACTIONS["mine"] == 2
    assert first["segment"]["obj_mask"][112, 112] == 1 and segmenter.tracked == 1
    assert second["segment"]["obj_mask"].sum() == 0  # the tracked mask of the next frame
    with pytest.raises(ValueError, match="interaction type"):
        pointer.start("explore", (1.0, 1.0), state())

    class BadSegmenter(FakeSegmenter):
        def segment(self, frame, point):
            return np.zeros((10, 10))

    with pytest.raises(ValueError, match="mask has shape"):
        Rocket1PointingPolicy(model, BadSegmenter()).start("kill", (1.0, 1.0), state())


def test_rocket1_and_steve1_drive_minestudio_through_text_env():
    rocket, steve = (
        FakeMinePolicy(),
        FakeMinePolicy(tokens=TOKENS.encode(CanonicalAction(buttons=frozenset({"forward"})))),
    )
    controllers = {
        "grounding": GroundingController(pointer=Rocket1PointingPolicy(rocket, FakeSegmenter()), budget=5),
        "language": SkillPolicyController(MineStudioSkillPolicy.steve1(steve), ticks=4),
    }
    env = TextActionEnv(MineStudioEnv("mine_block:oak_log", sim_factory=ContractSim), controllers=controllers)
    env.reset()
    _, reward, terminated, _, info = env.step("Grounding: Mine <|point_start|>(500,500)<|point_end|>")
    assert info["space"] == "grounding" and reward == 1.0 and terminated and info["ticks"] == 3  # 3 attack ticks
    env.reset()
    _, _, _, _, info = env.step("Skill: chop a tree")
    assert info["ticks"] == 4 and all(a["forward"] == 1 for a in env.unwrapped.sim.received[-4:])


def test_agent_action_decodes_and_checks_its_input():
    assert agent_action({"buttons": np.array([0]), "camera": np.array([60])}) == CanonicalAction()
    with pytest.raises(ValueError, match="one token"):
        agent_action({"buttons": np.array([0, 1]), "camera": np.array([60])})
    with pytest.raises(ValueError, match="agent action"):
        agent_action({"buttons": 1})
