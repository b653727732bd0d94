"""actionspaces.envs.craftworld.datasets.renamed_skill_calls: skill calls taught to copy the task's name."""

import re

import pytest

from actionspaces.envs.craftworld import parse_skill
from actionspaces.envs.craftworld.catalog import BLOCKS, MOBS
from actionspaces.envs.craftworld.datasets import (
    expert_contexts,
    fit_codebook,
    invented_name,
    record_episodes,
    renamed_skill_calls,
)


@pytest.fixture(scope="module")
def d_mix():
    episodes = record_episodes([0], task_ids=["mine_block:oak_log", "kill_entity:cow", "craft_item:stick"])
    return expert_contexts(episodes, fit_codebook(episodes, size=8), "mixed")


def test_each_skill_call_of_a_mine_or_kill_task_is_renamed_everywhere_it_shows(d_mix):
    skills = [(c, s) for c, s in d_mix if s == "language" and not c.task.startswith("craft_item")]
    assert skills, "the fixture's D_mix has no skill call to rename"
    renamed = renamed_skill_calls(d_mix, copies=3, seed=0)
    assert len(renamed) == 3 * len(skills)
    for (context, space), (original, _) in zip(renamed, [s for s in skills for _ in range(3)], strict=True):
        category, name = context.task.split(":")
        old = original.task.split(":")[1]
        assert space == "language" and category == original.task.split(":")[0]
        assert name not in BLOCKS and name not in MOBS
        assert f"task: {category}:{name}" in context.prompt
        assert not re.search(rf"(?<![a-z_]){old}(?![a-z_])", context.prompt)  # the old id shows nowhere
        # the rest of the observation is the original's, line for line
        assert context.prompt.count("\n") == original.prompt.count("\n")
        assert context.labels == {"language": original.labels["language"].replace(old.replace("_", " "),
                                                                                  name.replace("_", " "))}  # fmt: skip
        assert parse_skill(context.labels["language"].removeprefix("Skill:")) is None  # names nothing real
        assert context.state is original.state and context.frame is original.frame


def test_renaming_is_seeded_and_leaves_its_input_alone(d_mix):
    before = [(c.task, c.prompt, dict(c.labels)) for c, _ in d_mix]
    first = renamed_skill_calls(d_mix, copies=2, seed=1)
    assert [c.prompt for c, _ in first] == [c.prompt for c, _ in renamed_skill_calls(d_mix, copies=2, seed=1)]
    assert [c.prompt for c, _ in first] != [c.prompt for c, _ in renamed_skill_calls(d_mix, copies=2, seed=2)]
    assert len({c.task for c, _ in first}) == len(first)  # a new name for every copy
    assert before == [(c.task, c.prompt, dict(c.labels)) for c, _ in d_mix]
    assert renamed_skill_calls(d_mix, copies=0, seed=0) == []
    with pytest.raises(ValueError, match="copies must be >= 0"):
        renamed_skill_calls(d_mix, copies=-1, seed=0)


def test_invented_names_are_ids_of_one_to_three_words():
    import numpy as np

    rng = np.random.default_rng(0)
    names = [invented_name(rng) for _ in range(200)]
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+){0,2}", n) for n in names)
    assert {n.count("_") for n in names} == {0, 1, 2}
