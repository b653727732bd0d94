"""The CrossHA recipe's library pieces: its configuration, STRL, MTRL and seed sweeps (actionspaces.training)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from pydantic import BaseModel

from actionspaces import ViewState
from actionspaces.envs.craftworld.datasets import Context
from actionspaces.evaluation import Episode, Turn, call_shares
from actionspaces.training import RunFileError
from actionspaces.training.mtrl import mtrl_return, mtrl_step
from actionspaces.training.policy import Prompt
from actionspaces.training.recipe import PRESETS, CrossHAConfig, craftworld_env, preset_config, sft_stage, tiny_policy
from actionspaces.training.strl import action_match, executed_space, rejection_sample, relabel, strl_step
from actionspaces.training.sweep import Sweep, parse_seeds, run_seeds
from actionspaces.training.tiny import build_tiny_policy
from actionspaces.training.updates import Demonstration

FORWARD = "Action: move(0, 0) and press(w)"


def _context(raw: str = FORWARD) -> Context:
    labels = {"raw": raw, "motion": "Motion: move forward", "language": "Skill: mine dirt"}
    return Context("mine_block:dirt", "task: mine_block:dirt", ViewState(), labels)


@pytest.fixture(scope="module")
def policy():
    corpus = [FORWARD, "Motion: move forward", "Skill: mine dirt", "task: mine_block:dirt"] * 10
    return build_tiny_policy(corpus, vocab_size=300, hidden_size=16, layers=1, heads=2)


# ---- configuration


def test_every_preset_is_a_valid_config_and_overrides_are_typed() -> None:
    for name in PRESETS:
        assert isinstance(preset_config(name), CrossHAConfig)
    cfg = preset_config("ci", ["sft_lr=0.5", "eval_held_out=none"], name="mine")
    assert (cfg.sft_lr, cfg.eval_held_out, cfg.name) == (0.5, None, "mine")
    assert preset_config("ci", vision=None).vision is False  # None leaves the preset's value


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("nope", [], "no preset 'nope'"),
        ("ci", ["sft_lr"], "FIELD=VALUE"),
        ("ci", ["sft_lr=fast"], "sft_lr"),
        ("ci", ["sft_lr=-1"], "greater than 0"),
        ("ci", ["no_such_field=1"], "no_such_field"),
        ("ci", ["eval_models=mix"], "must include crossha"),
        ("ci", ["name=../escape"], "name"),
    ],
)
def test_a_bad_preset_or_override_is_named(preset: str, overrides: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        preset_config(preset, overrides)


def test_the_recipe_env_and_sft_stage_follow_the_config(tmp_path: Path) -> None:
    from actionspaces.training.policy import load_policy
    from actionspaces.training.stages import TrainingRun

    cfg = preset_config("ci", ["max_calls=3", "sft_steps_per_iter=2", "sft_batch=2"])
    env = craftworld_env(cfg)("mine_block:dirt", 0)
    env.reset(seed=0)
    steps = [env.step("Motion: turn left") for _ in range(3)]
    assert steps[-1][3] and not any(s[2] or s[3] for s in steps[:-1])  # truncated at cfg.max_calls
    corpus = ["task: mine_block:dirt", FORWARD, "Motion: move forward"] * 10
    policy = tiny_policy(cfg.model_copy(update={"hidden_size": 16, "layers": 1, "heads": 2}), corpus)
    run = TrainingRun(tmp_path, load=load_policy, echo=lambda line: None)
    sft_stage(run, cfg, "sft", policy, [Demonstration("task: mine_block:dirt", FORWARD)], steps=3)
    assert run.resume("sft").progress == {"iteration": 2, "done": True}  # ceil(3 / 2) checkpointed iterations


# ---- STRL


def test_the_reward_judges_what_an_answer_does_not_how_it_is_written() -> None:
    context = _context()
    assert action_match(FORWARD, context) == action_match("Motion: move forward", context) == 1.0
    assert action_match("Motion: turn left", context) == action_match("not an action", context) == 0.0
    assert executed_space("Motion: move forward") == "motion" and executed_space("gibberish") == "none"


class _ScriptedPolicy:
    """Answers by rule: ``answer(prompt text) -> response text``; ids index the texts it wrote."""

    def __init__(self, answer) -> None:
        self.answer, self.texts, self.temperatures = answer, [], []

    def prompt(self, observation: str, frame=None) -> Prompt:
        return Prompt(observation)

    def sample(self, prompts, temperature, *, max_new_tokens, batch_size=128):
        self.temperatures.append(temperature)
        self.texts += [self.answer(p.text) for p in prompts]
        return [[len(self.texts) - len(prompts) + i] for i in range(len(prompts))]

    def decode(self, ids) -> str:
        return self.texts[ids[0]]


def test_rejection_sampling_forces_each_space_keeps_equivalent_answers_and_rebalances() -> None:
    # raw: right in every context; motion: right in contexts 0 and 1 only; grounding: never parses
    contexts = [_context() for _ in range(4)]
    motion_calls = iter(range(4))

    def answer(text: str) -> str:
        if text.endswith("Action:"):
            return " move(0, 0) and press(w)"
        if text.endswith("Motion:"):
            return " move forward" if next(motion_calls) < 2 else " turn left"
        return " nonsense"

    policy = _ScriptedPolicy(answer)
    out = rejection_sample(policy, contexts, temperature=0.7, max_new_tokens=12, spaces=("raw", "motion", "grounding"))
    assert out["accepted"] == {"raw": 4, "motion": 2, "grounding": 0} and out["candidates"] == 4
    assert out["cap"] == 3  # the median of the spaces that have any: no space outweighs the others
    assert [(k, text.split(":")[0]) for k, text in out["examples"]] == [
        (0, "Action"), (1, "Action"), (2, "Action"), (0, "Motion"), (1, "Motion")
    ]  # fmt: skip
    assert all(action_match(text, contexts[k]) == 1.0 for k, text in out["examples"])
    assert policy.temperatures == [0.7]


def test_relabel_adopts_greedy_answers_only_where_equivalent_and_keeps_language() -> None:
    data = [(_context(), "raw"), (_context(), "language"), (_context("Action: move(5, 0) and press()"), "raw")]
    policy = _ScriptedPolicy(lambda text: "Motion: move forward")
    out = relabel(policy, data, max_new_tokens=12)
    assert policy.temperatures == [0.0]  # greedy
    assert out == {
        "examples": [[0, "Motion: move forward"], [1, "Skill: mine dirt"], [2, "Action: move(5, 0) and press()"]],
        "adopted": {"motion": 1},
        "total": 3,
    }


def test_strl_step_names_a_batch_larger_than_the_data(policy) -> None:
    import torch

    step = strl_step([_context()], prompts=2, group=2, temperature=1.0, max_new_tokens=8, minibatches=1, clip=0.2,
                     kl_coef=0.0)  # fmt: skip
    with pytest.raises(ValueError, match="draws 2 contexts without replacement from 1"):
        step(policy, torch.optim.AdamW(policy.model.parameters()), 0, None)


# ---- MTRL


def test_the_mtrl_return_charges_tokens_and_unparsed_calls() -> None:
    turns = [Turn("Skill: mine dirt", 5, "language"), Turn("??", 3, None)]
    episode = Episode("mine_block:dirt", 0, turns, success=1.0)
    assert episode.unparsed == 1
    assert mtrl_return(episode, token_penalty=0.01, format_penalty=0.1) == pytest.approx(1 - 0.08 - 0.1)
    with pytest.raises(ValueError, match="format_penalty"):
        mtrl_return(episode, format_penalty=float("nan"))
    assert call_shares([episode], ("language", "none")) == {"language": 0.5, "none": 0.5}
    assert call_shares([], ("language",)) == {"language": 0.0}


@pytest.mark.parametrize(
    ("tasks_per_step", "group", "format_penalty", "message"),
    [(3, 2, 0.1, "tasks_per_step"), (1, 1, 0.1, "group"), (1, 2, float("nan"), "penalties")],
)
def test_mtrl_step_refuses_impossible_batches_and_penalties(
    tasks_per_step: int, group: int, format_penalty: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        mtrl_step(lambda task, seed: None, ["a", "b"], tasks_per_step=tasks_per_step, group=group, temperature=1.0,
                  max_new_tokens=8, format_penalty=format_penalty, minibatches=1, clip=0.2, kl_coef=0.0)  # fmt: skip


# ---- sweeps


class _Cfg(BaseModel):
    seed: int = 0
    lr: float = 0.1


@pytest.mark.parametrize("text", ["1,1", "a,b", "-1", "", "1.5"])
def test_bad_seeds_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="seeds"):
        parse_seeds(text)


def test_a_sweep_runs_each_seed_once_and_resumes_only_the_same_config(tmp_path: Path) -> None:
    assert parse_seeds("3 1,2") == (3, 1, 2)
    runs = run_seeds(tmp_path, _Cfg(), (0, 1), lambda cfg, root: (cfg.seed, root.name), resume=False)
    assert runs == [(0, "seed-0"), (1, "seed-1")]
    with pytest.raises(RunFileError, match="seed 0"):
        run_seeds(tmp_path, _Cfg(), (0,), lambda cfg, root: None, resume=False)  # exists: never overwritten
    with pytest.raises(RunFileError, match="different config"):
        run_seeds(tmp_path, _Cfg(lr=0.2), (0,), lambda cfg, root: None, resume=True)
    assert run_seeds(tmp_path, _Cfg(), (1,), lambda cfg, root: cfg.seed, resume=True) == [1]
    record = Sweep[_Cfg](config=_Cfg(), seeds=(0, 1))
    assert Sweep[_Cfg].model_validate_json(record.model_dump_json()) == record
