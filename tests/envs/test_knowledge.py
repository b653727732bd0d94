"""The knowledge corpus (M_base's data): every registered target, no action, answers true to the view."""

from __future__ import annotations

import re

import pytest

from actionspaces.canonical import CanonicalAction
from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import (
    FACT_KINDS,
    RecipeBook,
    get_task,
    knowledge_corpus,
    label_step,
    record_expert,
    spoken,
    task_subset,
    tasks,
)
from actionspaces.envs.craftworld.catalog import BLOCKS, MOBS
from actionspaces.registry import space_entry, text_order


@pytest.fixture(scope="module")
def corpus():
    return knowledge_corpus()


def test_the_corpus_covers_every_registered_target_and_every_kind(corpus) -> None:
    said = {f.prompt for f in corpus if f.kind == "name"}
    assert {f"question: say {t.target} in words." for t in tasks("all")} <= said
    assert {f.kind for f in corpus} == set(FACT_KINDS)
    located = {f.answer.split("<|object_ref_end|>")[0].removeprefix("<|object_ref_start|>") for f in corpus
               if f.kind == "locate"}  # fmt: skip
    held_out = {spoken(t.target) for t in tasks("eval") if t.category != "craft_item"}
    assert len(held_out & located) > 0.95 * len(held_out)  # the scripted view faces each target
    assert len(corpus) > 10_000


def test_no_fact_is_an_action_and_no_held_out_label_is_in_the_corpus(corpus) -> None:
    prefixes = tuple(space_entry(name).prefix.strip() for name in text_order())
    for fact in corpus:
        for line in (*fact.prompt.splitlines(), fact.answer):
            assert not line.lstrip().startswith(prefixes), fact
    text = "\n".join(f"{f.prompt}\n{f.answer}" for f in corpus)
    ticks = [CanonicalAction(buttons=frozenset({b})) for b in ("forward", "attack")]
    codebook = LatentCodebook.fit([[t] * 4 for t in ticks], size=2, seed=0)
    checked = 0
    for task in task_subset(4, seed=3):  # held-out tasks of every category, their expert's labels in every space
        steps = record_expert(task, 0)
        for t in range(0, len(steps), 3):
            for label in label_step(steps, t, codebook).values():
                assert label.text not in text, (task.id, label.text)
                checked += 1
    assert checked > 50


def test_view_answers_are_true_to_the_observation(corpus) -> None:
    line = re.compile(r"^- ([a-z0-9_]+) \((\d+),(\d+)\)", re.M)
    for fact in [f for f in corpus if f.kind == "locate" and "\nobjects:" in f.prompt][:500]:
        name, point = re.fullmatch(r"<\|object_ref_start\|>(.+)<\|object_ref_end\|><\|point_start\|>\((.+)\)<\|point_end\|>",
                                   fact.answer).groups()  # fmt: skip
        assert (name.replace(" ", "_"), *point.split(",")) in line.findall(fact.prompt)
        assert fact.prompt.endswith(f"question: where is the {name}?")
    for fact in [f for f in corpus if f.kind == "identify"][:500]:
        x, y = re.search(r"what is at \((\d+),(\d+)\)\?$", fact.prompt).groups()
        names = [n for n, px, py in line.findall(fact.prompt) if (px, py) == (x, y)]
        assert fact.answer.split(" ", 1)[1] in {spoken(n) for n in names}


def test_world_facts_follow_the_data() -> None:
    facts = knowledge_corpus([get_task("mine_block:iron_ore"), get_task("kill_entity:cow"),
                              get_task("craft_item:crafting_table")], views=0)  # fmt: skip
    by_kind = {f.kind: f.answer for f in facts}
    assert "stone pickaxe" in by_kind["tool"] and BLOCKS["iron_ore"].needs_tool
    drops = next(f.answer for f in facts if f.kind == "drops" and "cow" in f.prompt)
    assert all(spoken(item) in drops for item, _ in MOBS["cow"].drops)
    recipes = [f.answer for f in facts if f.kind == "recipe"]
    assert len(recipes) == len(RecipeBook.default().recipes_for("crafting_table"))
    assert recipes[0].startswith("1 crafting table, in the inventory grid: row 1: oak planks, oak planks")


def test_the_corpus_is_a_pure_function_of_its_arguments() -> None:
    chosen = [get_task("mine_block:oak_log"), get_task("kill_entity:zombie")]
    assert knowledge_corpus(chosen, seed=4) == knowledge_corpus(chosen, seed=4)
    assert knowledge_corpus(chosen, seed=4) != knowledge_corpus(chosen, seed=5)
    with pytest.raises(ValueError, match="views"):
        knowledge_corpus(chosen, views=-1)
    assert knowledge_corpus(["mine_block:oak_log", "kill_entity:zombie"], seed=4) == knowledge_corpus(chosen, seed=4)
    with pytest.raises(ValueError, match="unknown task 'mine_block:no_such_block'"):
        knowledge_corpus(["mine_block:no_such_block"])
    with pytest.raises(TypeError, match="Tasks or task ids, got int: 3"):
        knowledge_corpus([3])  # type: ignore[list-item]
