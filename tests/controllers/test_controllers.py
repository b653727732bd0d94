import math

import numpy as np
import pytest

from actionspaces import (
    CanonicalAction,
    ChainSpace,
    GroundingSpace,
    LanguageSpace,
    LatentSpace,
    MotionSpace,
    RawSpace,
    ViewState,
)
from actionspaces.controllers import (
    GroundingController,
    LatentCodebook,
    LatentController,
    MotionController,
    RawController,
    SkillPolicyController,
    default_controllers,
    execute,
)
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import OracleGroundingController, OracleSkillController, craftworld_controllers
from actionspaces.envs.craftworld.expert import Expert
from actionspaces.state import ControlState


def env_for(task, seed=0):
    env = CraftWorld(task)
    env.reset(seed=seed)
    return env


def object_point(env, name):
    obj = next(o for o in env.visible_objects() if o.name == name)
    return env.grid_point(*obj.pixel)


def face(env, name):
    """Turn until an object named ``name`` is in view (the start yaw is random)."""
    for _ in range(72):
        if any(o.name == name for o in env.visible_objects()):
            return
        env.step({"camera": [0.0, 5.0]})
    raise AssertionError(f"no {name} in view")


def test_raw_controller_is_one_tick():
    env = env_for("mine_block:oak_log")
    run = execute(RawController(), RawSpace().parse("Action: move(0, 0) and press(w)"), env)
    assert run.ticks == 1 and (env.world.player.x, env.world.player.z) != (0.5, 0.5)


def test_motion_controller_holds_the_primitive_for_k_ticks():
    env = env_for("mine_block:oak_log")
    yaw0 = env.world.player.yaw
    run = execute(MotionController(), MotionSpace().parse("Motion: turn left"), env)
    assert run.ticks == 4 and math.isclose(env.world.player.yaw, (yaw0 - 20 + 180) % 360 - 180)
    env = env_for("craft_item:stick")
    run = execute(MotionController(ticks=2), MotionSpace().parse("Motion: cursor move right"), env)
    assert run.ticks == 2 and math.isclose(env.cursor[0], 320 + 2 * 3 * 2400 / 360)


@pytest.mark.parametrize(
    ("task", "name", "verb"), [("mine_block:oak_log", "oak_log", "Mine"), ("kill_entity:cow", "cow", "Kill")]
)
def test_oracle_grounding_finishes_the_object_at_the_point(task, name, verb):
    env = env_for(task, seed=1)
    face(env, name)
    x, y = object_point(env, name)
    space = GroundingSpace()
    action = space.parse(f"Grounding: {verb} <|point_start|>({x},{y})<|point_end|>")
    first = space.canonicalize(action, env.view_state())
    controller = OracleGroundingController(space)
    controller.start(action, env.control_state())
    assert controller.step(env.control_state())[0] == first  # the first tick is the space's g
    run = execute(controller, action, env)
    assert run.reward == 1.0 and run.terminated


def test_grounding_turns_to_the_point_through_the_pinhole_model_then_acts_for_its_budget():
    env = env_for("mine_block:oak_log", seed=1)
    space = GroundingSpace()
    pitch0, yaw0 = env.control_state().pitch, env.control_state().yaw
    run = execute(GroundingController(space), space.parse("Grounding: move_to (900,500)"), env)
    focal = 180 / math.tan(math.radians(35))
    expected_yaw = math.degrees(math.atan2(900 / 1000 * 640 + 0.5 - 320, focal))
    expected_pitch = math.degrees(math.atan2(500 / 1000 * 360 + 0.5 - 180, focal))
    state = env.control_state()
    assert math.isclose((state.yaw - yaw0 + 180) % 360 - 180, expected_yaw, abs_tol=1e-6)
    assert math.isclose(state.pitch - pitch0, expected_pitch, abs_tol=1e-6)
    assert run.ticks == math.ceil(expected_yaw / space.max_turn_deg)
    # mine: the same turn, then attack (and walk) for exactly interact_ticks
    env = env_for("mine_block:oak_log", seed=1)
    ticks = []
    controller = GroundingController(space, interact_ticks=5)
    action = space.parse("Grounding: Mine (900,500)")
    controller.start(action, env.control_state())
    done = False
    while not done:
        tick, done = controller.step(env.control_state())
        ticks.append(tick)
        env.step(tick)
    attacking = [t for t in ticks if "attack" in t.buttons]
    assert len(attacking) == 5 and ticks[-5:] == attacking and all("forward" in t.buttons for t in attacking)
    # the budget bounds a call
    run = execute(GroundingController(space, budget=3, interact_ticks=50), action, env_for("mine_block:oak_log"))
    assert run.ticks == 3


def test_grounding_hands_world_commands_to_a_pointing_policy():
    class Pointer:
        def start(self, verb, pixel, state):
            self.started = (verb, pixel)

        def act(self, state):
            return CanonicalAction(buttons=frozenset({"attack"}))

    pointer = Pointer()
    space = GroundingSpace()
    controller = GroundingController(space, budget=4, pointer=pointer)
    state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
    controller.start(space.parse("Grounding: Kill <|point_start|>(500,250)<|point_end|>"), state)
    steps = [controller.step(state) for _ in range(4)]
    assert pointer.started == ("kill", (320.5, 90.5))
    assert all(t.buttons == {"attack"} for t, _ in steps) and [d for _, d in steps] == [False] * 3 + [True]
    with pytest.raises(TypeError, match="pointer"):
        GroundingController(space, pointer=object())


@pytest.mark.parametrize("controller", [GroundingController, OracleGroundingController])
def test_grounding_controller_clicks_a_slot_in_the_gui(controller):
    env = env_for("craft_item:oak_planks", seed=2)
    slot = env.world.player.inventory.find("oak_log")
    from actionspaces.envs.craftworld.gui import SlotRef

    x, y = env.grid_point(*env.screen.slot_centre(SlotRef("inventory", slot)))
    space = GroundingSpace()
    run = execute(controller(space), space.parse(f"Grounding: Mine <|point_start|>({x},{y})<|point_end|>"), env)
    assert env.screen.cursor is not None and env.screen.cursor.item == "oak_log"
    assert run.ticks <= 5


def test_oracle_grounding_at_empty_sky_only_turns():
    env = env_for("craft_item:stick")
    env.step({"ESC": 1})  # an empty world
    space = GroundingSpace()
    action = space.parse("Grounding: Mine <|point_start|>(900,100)<|point_end|>")
    run = execute(OracleGroundingController(space), action, env)
    assert run.ticks <= 6 and env.world.mine_block == {}


def test_oracles_refuse_a_state_without_the_simulator():
    state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
    with pytest.raises(TypeError, match="oracle"):
        OracleGroundingController().start(GroundingSpace().parse("Grounding: Mine (1,1)"), state)
    with pytest.raises(TypeError, match="oracle"):
        OracleSkillController().start(LanguageSpace().parse("Skill: chop a tree"), state)


def test_skill_policy_controller_runs_the_policy_for_its_ticks():
    class Policy:
        def start(self, instruction, state):
            self.instruction = instruction

        def act(self, state):
            return CanonicalAction(buttons=frozenset({"forward"}))

    env = env_for("mine_block:oak_log")
    controller = SkillPolicyController(Policy(), ticks=7)
    run = execute(controller, LanguageSpace().parse("Skill: chop a tree"), env)
    assert run.ticks == 7 and controller.policy.instruction == "chop a tree"
    with pytest.raises(TypeError, match="policy"):
        SkillPolicyController(object())
    with pytest.raises(ValueError, match="ticks"):
        SkillPolicyController(Policy(), ticks=0)
    assert "language" in default_controllers(skill_policy=Policy()) and "language" not in default_controllers()


def test_skill_parsing():
    from actionspaces.envs.craftworld import parse_skill

    assert parse_skill("chop the oak tree") == ("mine_block", "oak_log")
    assert parse_skill("mine 3 stone nearby") == ("mine_block", "stone")
    assert parse_skill("collect sugar cane") == ("mine_block", "sugar_cane")
    assert parse_skill("hunt the zombies") == ("kill_entity", "zombie")
    assert parse_skill("craft a table") is None and parse_skill("") is None
    # the longest name in the phrase wins, as written or with its last word singular
    assert parse_skill("mine dark oak log") == ("mine_block", "dark_oak_log")
    assert parse_skill("chop the dark oak tree") == ("mine_block", "dark_oak_log")
    assert parse_skill("mine 2 acacia fence gates") == ("mine_block", "acacia_fence_gate")
    assert parse_skill("collect twisting vines") == ("mine_block", "twisting_vines")
    assert parse_skill("mine 3 coal ores") == ("mine_block", "coal_ore")


def test_every_mine_and_kill_target_can_be_named_by_a_skill() -> None:
    from actionspaces.envs.craftworld import parse_skill, tasks

    for task in tasks("all"):
        if task.category != "craft_item":
            verb = "mine" if task.category == "mine_block" else "kill"
            assert parse_skill(f"{verb} {task.target.replace('_', ' ')}") == (task.category, task.target), task.id


def test_skills_succeed_or_fail_at_the_seeded_rate():
    successes = 0
    runs = 40
    for seed in range(runs):
        env = env_for("mine_block:oak_log", seed=seed)
        controller = OracleSkillController(failure_rate=0.25, seed=seed)
        execute(controller, LanguageSpace().parse("Skill: chop the oak tree"), env)
        successes += env.world.mine_block["oak_log"] > 0
    assert 0.55 <= successes / runs <= 0.95  # 75 % expected
    env = env_for("mine_block:oak_log")
    always = OracleSkillController(failure_rate=0.0)
    run = execute(always, LanguageSpace().parse("Skill: chop the oak tree"), env)
    assert run.reward == 1.0


def test_skills_cannot_operate_a_gui_and_resolver_gives_g():
    env = env_for("craft_item:stick")
    run = execute(OracleSkillController(failure_rate=0.0), LanguageSpace().parse("Skill: chop the oak tree"), env)
    assert run.ticks == 1 and env.world.craft_item == {}
    env = env_for("mine_block:oak_log", seed=1)
    skills = OracleSkillController(failure_rate=0.0)
    space = LanguageSpace(resolver=skills.resolver(env))
    action = space.parse("Skill: chop the oak tree")
    first = space.canonicalize(action, env.view_state())
    skills.start(action, env.control_state())
    assert skills.step(env.control_state())[0] == first


def expert_chunks(task="mine_block:oak_log", seeds=range(5)):
    chunks = []
    for seed in seeds:
        env = env_for(task, seed)
        ticks = [a for a, *_ in Expert(env).run()]
        chunks += [ticks[i : i + 4] for i in range(0, len(ticks) - 3, 4)]
    return chunks


def test_latent_codebook_fit_encode_decode_save_load(tmp_path):
    chunks = expert_chunks()
    book = LatentCodebook.fit(chunks, size=8)
    assert book.size == 8
    codes = book.encode([t for c in chunks[:3] for t in c])
    assert len(codes) == 3 and len(book.decode(codes)) == 12
    path = tmp_path / "codebook.json"
    book.save(path)
    again = LatentCodebook.load(path)
    assert np.allclose(again.centroids, book.centroids, atol=1e-6)
    with pytest.raises(ValueError, match="outside"):
        book.decode([8])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a"):
        LatentCodebook.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        LatentCodebook.load(tmp_path / "missing.json")
    with pytest.raises(TypeError, match="chunk 1 holds a dict, not a CanonicalAction"):
        LatentCodebook.fit([chunks[0], [{"forward": 1}] * 4], size=2)


def test_latent_controller_and_space_g_agree():
    book = LatentCodebook.fit(expert_chunks(), size=8)
    space = LatentSpace(codebook_size=book.size, decoder=book)
    action = space.parse("Latent: <|latent_3|><|latent_5|>")
    env = env_for("mine_block:oak_log")
    controller = LatentController(book)
    controller.start(action, env.control_state())
    assert controller.step(env.control_state())[0] == space.canonicalize(action)
    run = execute(LatentController(book), action, env)
    assert run.ticks == 8


def test_text_env_counts_calls_ticks_tokens_and_never_raises():
    env = TextActionEnv(CraftWorld("mine_block:oak_log"), controllers=craftworld_controllers(), token_counter=len,
                        max_calls=3)  # fmt: skip
    env.reset(seed=0)
    _, _, _, truncated, info = env.step("Skill: ???")  # names no skill: one tick, no error (it parsed)
    assert info["space"] == "language" and info["ticks"] == 1 and not truncated
    _, _, _, _, info = env.step("\x00garbage")
    assert info["space"] is None and info["parse_error"] is not None and info["ticks"] == 1
    _, _, _, truncated, info = env.step("Latent: <|latent_1|>")  # no codebook: no controller
    assert info["space"] is None and "no controller" in str(info["parse_error"])
    assert (
        truncated
        and info["calls"] == 3
        and info["total_tokens"] == len("Skill: ???") + len("\x00garbage") + len("Latent: <|latent_1|>")
    )
    with pytest.raises(TypeError):
        env.step(42)


def test_text_env_runs_a_chain_to_success():
    env = TextActionEnv(CraftWorld("mine_block:oak_log"), controllers=craftworld_controllers())
    obs, _ = env.reset(seed=1)
    chain = ChainSpace()
    calls = 0
    terminated = False
    while not terminated and calls < 30:
        line = next(line for line in obs["text"].splitlines() if line.startswith("- oak_log"))
        point = line.split()[2]
        obs, reward, terminated, _, info = env.step(f"Grounding: Mine <|point_start|>{point}<|point_end|>")
        calls += 1
    assert terminated and reward == 1.0 and info["space"] == "grounding" and calls <= 3
    assert chain.parse(f"Grounding: Mine <|point_start|>{point}<|point_end|>").ok


def test_text_env_executes_the_lowest_level_of_a_chain():
    env = TextActionEnv(CraftWorld("mine_block:oak_log"))
    env.reset(seed=0)
    _, _, _, _, info = env.step("Motion: turn left\nAction: move(0, 0) and press(w)")
    assert info["space"] == "raw" and info["ticks"] == 1


def test_text_env_episodes_replay_exactly_with_skills():
    def episode():
        env = TextActionEnv(CraftWorld("kill_entity:cow"), controllers=craftworld_controllers(skill_failure_rate=0.5))
        out = []
        for seed in (4, 4):
            env.reset(seed=seed)
            for _ in range(3):
                _, _, terminated, _, info = env.step("Skill: hunt a cow")
                out.append((seed, info["ticks"], terminated))
                if terminated:
                    break
        return out

    runs = episode()
    half = len(runs) // 2
    assert runs[:half] == runs[half:]  # the same seed, the same skill failures
