import math

import numpy as np
import pytest

from actionspaces import (
    ChainSpace,
    GroundingSpace,
    LanguageSpace,
    LatentSpace,
    MotionSpace,
    RawSpace,
)
from actionspaces.controllers import (
    GroundingController,
    LatentCodebook,
    LatentController,
    MotionController,
    RawController,
    SkillController,
    execute,
    parse_skill,
)
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld.expert import Expert


def env_for(task, seed=0):
    env = CraftWorld(task)
    env.reset(seed=seed)
    return env


def object_point(env, name):
    obj = next(o for o in env.visible_objects() if o.name == name)
    return env._point(*obj.pixel)


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
def test_grounding_controller_finishes_the_object_at_the_point(task, name, verb):
    env = env_for(task, seed=1)
    face(env, name)
    x, y = object_point(env, name)
    space = GroundingSpace()
    action = space.parse(f"Grounding: {verb} <|point_start|>({x},{y})<|point_end|>")
    first = space.canonicalize(action, env.view_state())
    controller = GroundingController(space)
    controller.start(action, env)
    assert controller.step(env)[0] == first  # the first tick is the space's g
    run = execute(controller, action, env)
    assert run.reward == 1.0 and run.terminated


def test_grounding_controller_clicks_a_slot_in_the_gui():
    env = env_for("craft_item:oak_planks", seed=2)
    slot = env.world.player.inventory.find("oak_log")
    from actionspaces.envs.craftworld.gui import SlotRef

    x, y = env._point(*env.screen.slot_centre(SlotRef("inventory", slot)))
    space = GroundingSpace()
    run = execute(
        GroundingController(space), space.parse(f"Grounding: Mine <|point_start|>({x},{y})<|point_end|>"), env
    )
    assert env.screen.cursor is not None and env.screen.cursor.item == "oak_log"
    assert run.ticks <= 5


def test_grounding_at_empty_sky_only_turns():
    env = env_for("craft_item:stick")
    env.step({"ESC": 1})  # an empty world
    space = GroundingSpace()
    run = execute(GroundingController(space), space.parse("Grounding: Mine <|point_start|>(900,100)<|point_end|>"), env)
    assert run.ticks <= 6 and env.world.mine_block == {}


def test_skill_parsing():
    assert parse_skill("chop the oak tree") == ("mine_block", "oak_log")
    assert parse_skill("mine 3 stone nearby") == ("mine_block", "stone")
    assert parse_skill("collect sugar cane") == ("mine_block", "sugar_cane")
    assert parse_skill("hunt the zombies") == ("kill_entity", "zombie")
    assert parse_skill("craft a table") is None and parse_skill("") is None


def test_skills_succeed_or_fail_at_the_seeded_rate():
    successes = 0
    runs = 40
    for seed in range(runs):
        env = env_for("mine_block:oak_log", seed=seed)
        controller = SkillController(failure_rate=0.25, seed=seed)
        execute(controller, LanguageSpace().parse("Skill: chop the oak tree"), env)
        successes += env.world.mine_block["oak_log"] > 0
    assert 0.55 <= successes / runs <= 0.95  # 75 % expected
    env = env_for("mine_block:oak_log")
    always = SkillController(failure_rate=0.0)
    run = execute(always, LanguageSpace().parse("Skill: chop the oak tree"), env)
    assert run.reward == 1.0


def test_skills_cannot_operate_a_gui_and_resolver_gives_g():
    env = env_for("craft_item:stick")
    run = execute(SkillController(failure_rate=0.0), LanguageSpace().parse("Skill: chop the oak tree"), env)
    assert run.ticks == 1 and env.world.craft_item == {}
    env = env_for("mine_block:oak_log", seed=1)
    skills = SkillController(failure_rate=0.0)
    space = LanguageSpace(resolver=skills.resolver(env))
    action = space.parse("Skill: chop the oak tree")
    first = space.canonicalize(action, env.view_state())
    skills.start(action, env)
    assert skills.step(env)[0] == first


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


def test_latent_controller_and_space_g_agree():
    book = LatentCodebook.fit(expert_chunks(), size=8)
    space = LatentSpace(codebook_size=book.size, decoder=book)
    action = space.parse("Latent: <|latent_3|><|latent_5|>")
    env = env_for("mine_block:oak_log")
    controller = LatentController(book)
    controller.start(action, env)
    assert controller.step(env)[0] == space.canonicalize(action)
    run = execute(LatentController(book), action, env)
    assert run.ticks == 8


def test_text_env_counts_calls_ticks_tokens_and_never_raises():
    env = TextActionEnv(CraftWorld("mine_block:oak_log"), token_counter=len, max_calls=3)
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
    env = TextActionEnv(CraftWorld("mine_block:oak_log"))
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
        env = TextActionEnv(CraftWorld("kill_entity:cow"), skill_failure_rate=0.5)
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
