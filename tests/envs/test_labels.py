import pytest

from actionspaces import ChainSpace
from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import get_task
from actionspaces.envs.craftworld.labels import check_label, label_agreement, label_step, record_expert


@pytest.fixture(scope="module")
def codebook():
    chunks = []
    for task in ("mine_block:oak_log", "kill_entity:cow", "craft_item:stick"):
        acts = [s.action for s in record_expert(task, 50)]
        chunks += [acts[i : i + 4] for i in range(len(acts) - 3)]
    return LatentCodebook.fit(chunks, size=32)


def test_every_label_parses_back_in_its_space(codebook):
    from actionspaces import LatentSpace

    steps = record_expert("craft_item:wooden_pickaxe", 0)
    chain = ChainSpace()
    latent = LatentSpace(codebook_size=codebook.size)
    for t in range(0, len(steps), 3):
        for space, label in label_step(steps, t, codebook).items():
            parsed = latent.parse(label.text) if space == "latent" else chain.parse(label.text).executable.action
            assert parsed == label.action, (space, label.text)


def test_world_labels_name_the_target_and_gui_has_no_language():
    steps = record_expert("mine_block:oak_log", 1)
    labels = label_step(steps, 0)
    assert labels["language"].text == "Skill: mine oak log"
    assert set(label_step(record_expert("craft_item:stick", 0), 0)) == {"raw", "motion", "grounding"}
    late = next(label_step(steps, t) for t in range(len(steps)) if "grounding" in label_step(steps, t))
    assert late["grounding"].text.startswith("Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|>")


def test_raw_and_grounding_labels_reach_the_experts_subgoal(codebook):
    result = label_agreement(
        [get_task(t) for t in ("mine_block:stone", "kill_entity:pig", "craft_item:torch")], [3], codebook=codebook
    )
    for (space, category), (agree, total) in result.items():
        assert total > 0
        if space in ("raw", "grounding"):
            assert agree / total >= 0.95, (space, category, agree, total)


def test_a_wrong_label_is_caught():
    steps = record_expert("mine_block:oak_log", 2)
    from actionspaces.envs.craftworld.labels import Label
    from actionspaces.spaces import MotionSpace

    wrong = MotionSpace().parse("Motion: turn left")
    t = 0
    assert steps[t].goal.kind == "mine"
    right = label_step(steps, t)["grounding"] if "grounding" in label_step(steps, t) else label_step(steps, t)["raw"]
    assert check_label(steps, t, right)
    assert not check_label(steps, t, Label("motion", "Motion: turn left", wrong, 40))


def test_every_step_of_every_training_episode_is_labelled():
    """A resting GUI cursor is labelled as the motion no-op (it once raised a validation error)."""
    from actionspaces import MotionAction
    from actionspaces.envs.craftworld import tasks

    rests = 0
    for task in tasks("train", category="craft_item"):
        for seed in range(4):
            steps = record_expert(task, seed)
            for t in range(len(steps)):
                labels = label_step(steps, t)
                assert {"raw", "motion"} <= set(labels)
                rests += labels["motion"].action == MotionAction() and steps[t].env.screen is not None
    assert rests > 0
