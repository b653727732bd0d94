"""The batched play loop and CrossHA's metrics (actionspaces.evaluation), with hand-written policies."""

from __future__ import annotations

import re

import pytest

from actionspaces.envs.craftworld import make_text_env
from actionspaces.evaluation import Answer, Episode, Turn, openha_layout, play, summarize

_OBJECT = re.compile(r"^- (\w+) \((\d+),(\d+)\)", re.M)


def grounding_policy(observations: list[str]) -> list[Answer]:
    """Point at the task's target when the text lists it, else turn right and look again."""
    answers = []
    for text in observations:
        target = text.splitlines()[0].split(":")[-1]
        found = [(x, y) for name, x, y in _OBJECT.findall(text) if name == target]
        verb = "Kill" if "kill_entity" in text.splitlines()[0] else "Mine"
        reply = f"Grounding: {verb} ({found[0][0]},{found[0][1]})" if found else "Action: move(60, 0) and press()"
        answers.append(Answer(reply, tokens=len(reply.split())))
    return answers


def test_play_runs_a_batch_to_the_end_and_records_every_turn():
    jobs = [("mine_block:oak_log", 0), ("kill_entity:cow", 1), ("mine_block:oak_log", 2)]
    envs = [make_text_env(task, max_calls=20) for task, _ in jobs]
    batches = []

    def respond(observations):
        batches.append(len(observations))
        return grounding_policy(observations)

    episodes = play(envs, jobs, respond, progress=True)
    assert [e.task for e in episodes] == [t for t, _ in jobs] and [e.seed for e in episodes] == [0, 1, 2]
    assert all(e.success == 1.0 for e in episodes)
    assert batches[0] == 3 and batches == sorted(batches, reverse=True)  # one call per turn over the live envs
    first = episodes[0]
    assert first.calls == len(first.turns) and first.tokens == sum(t.tokens for t in first.turns)
    assert first.turns[-1].space == "grounding" and first.ticks > first.calls


def test_play_names_a_mismatch():
    envs = [make_text_env("mine_block:oak_log")]
    with pytest.raises(ValueError, match="1 envs for 2 episodes"):
        play(envs, [("mine_block:oak_log", 0)] * 2, grounding_policy)
    with pytest.raises(ValueError, match="answered 0 of 1"):
        play(envs, [("mine_block:oak_log", 0)], lambda observations: [])


def episode(task, success, spaces, tokens=2, ticks=10):
    return Episode(task, 0, [Turn("x", tokens, s) for s in spaces], success, ticks)


def test_summarize_computes_ft_asr_tokens_calls_and_shares():
    episodes = [
        episode("mine_block:a", 1.0, ["raw", None]),
        episode("mine_block:a", 0.0, ["raw", "raw", "motion"]),
        episode("kill_entity:b", 0.0, ["grounding"], tokens=4),
        episode("craft_item:c", 1.0, ["language"], ticks=30),
    ]
    splits = {"mine_block:a": "ID", "kill_entity:b": "ID", "craft_item:c": "OOD"}
    categories = {t: t.split(":")[0] for t in splits}
    summary = summarize(episodes, splits=splits, categories=categories)
    assert list(summary) == ["ID/mine_block", "ID/kill_entity", "ID/all", "OOD/craft_item", "OOD/all"]
    mine, all_id = summary["ID/mine_block"], summary["ID/all"]
    assert mine["FT"] == 1.0 and mine["ASR"] == 0.5 and mine["calls_per_episode"] == 2.5 and mine["episodes"] == 2
    assert all_id["FT"] == 0.5 and all_id["ASR"] == pytest.approx(1 / 3)
    assert all_id["tokens_per_call"] == pytest.approx(14 / 6) and all_id["tokens_per_episode"] == pytest.approx(14 / 3)
    assert mine["shares"]["raw"] == 0.6 and mine["shares"]["none"] == 0.2 and mine["shares"]["motion"] == 0.2
    assert summary["OOD/all"]["ticks_per_episode"] == 30.0
    ordered = summarize(episodes, splits=splits, categories=categories, order=(["OOD", "ID"], ["kill_entity"]))
    assert list(ordered) == ["OOD/all", "ID/kill_entity", "ID/all"]
    with pytest.raises(KeyError, match="without a split"):
        summarize(episodes, splits={"mine_block:a": "ID"}, categories=categories)


def test_openha_layout_is_the_reference_per_task_file():
    episodes = [episode("mine_block:a", 1.0, ["raw"]), episode("mine_block:a", 0.0, ["raw"])]
    assert openha_layout(episodes, "m") == {
        "m": {"mine_block:a": {"task_suc_nums": 1, "task_total_nums": 2, "task_suc_rate": 0.5}}
    }
