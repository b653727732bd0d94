"""The CrossHA recipe's configuration: every hyper-parameter of a run, and one preset per budget.

:class:`CrossHAConfig` is what ``examples/crossha_train.py`` runs (and saves as ``runs/<name>/config.json``),
what the TRL examples take their settings from, and what a script reads a run's settings back with. The
presets (``ci``, ``quick``, ``pretrained``, ``paper``) are data, in ``crossha_presets.toml`` beside this
module; :func:`preset_config` resolves one with ``FIELD=VALUE`` overrides, as ``--set`` gives them.

Examples:
    >>> cfg = preset_config("quick", ["mtrl_iters=2"], name="mine")
    >>> cfg.name, cfg.mtrl_iters, cfg.hidden_size
    ('mine', 2, 64)
    >>> preset_config("quick", ["mtrl_iters"])
    Traceback (most recent call last):
    ...
    ValueError: overrides are FIELD=VALUE, got 'mtrl_iters'
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..registry import text_order
from ..reporting import CROSSHA_MODELS, Evaluations
from ..token_cost import FORMAT_PENALTY, TOKEN_PENALTY
from .rundir import RUN_NAME_PATTERN

if TYPE_CHECKING:
    import torch

    from ..controllers import LatentCodebook
    from ..envs.craftworld import Task
    from .policy import Policy
    from .protocol import TrainablePolicy
    from .stages import TrainingRun
    from .updates import Demonstration

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from the train extra
    import tomli as tomllib

__all__ = [
    "EVAL_SEED",
    "PRESETS",
    "SPACE_COLUMNS",
    "CrossHAConfig",
    "craftworld_env",
    "evaluate",
    "evaluation_tasks",
    "evaluations",
    "observation_frame",
    "preset_config",
    "sft_stage",
    "tiny_policy",
]

#: The evaluation episodes' first env seed: never one of training's.
EVAL_SEED = 1_000_000

#: The evaluation's space columns: the registry's spaces in text order, then ``"none"`` (nothing executable).
SPACE_COLUMNS = (*text_order(), "none")


class CrossHAConfig(BaseModel):
    """Every hyper-parameter of a CrossHA run (saved as ``runs/<name>/config.json``); see :data:`PRESETS`.

    The values in comments are the paper's (``openha-formats.md`` section 5), scaled down for a small model
    on CPU; the defaults are a model trained from scratch.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("quick", pattern=RUN_NAME_PATTERN)  # a plain name: runs/<name> stays inside runs/
    seed: int = 0
    model: str | None = None  # a checkpoint path or a pretrained name (smollm2-135m-instruct); None: the tiny Qwen2
    # show the pov frame with every observation (a Qwen2-VL: the tiny one below gets a vision tower),
    # keeping every frame_stride-th pixel of CraftWorld's 640x360 frame (grounding points are 0-1000 anyway)
    vision: bool = False
    frame_stride: int = Field(4, ge=1, le=32)
    # tiny Qwen2 built from a config, and its byte-level BPE tokenizer trained on CraftWorld text
    hidden_size: int = Field(64, ge=8)
    layers: int = Field(2, ge=1)
    heads: int = Field(4, ge=1)
    vocab_size: int = Field(1024, ge=300)
    # fine-tune only the top N decoder layers (None: every weight); what fits a pretrained model on 2 cores
    train_layers: int | None = Field(None, ge=1)
    # with train_layers, train the output head's rows of the tokens the spaces add (latent codes, grounding
    # markers) too: their spelled-out start tells the codes apart by a digit only (docs/training.md)
    train_token_rows: bool = False
    # the system message of every prompt (None: the chat template's default; "": an empty one, the shortest)
    system_prompt: str | None = None
    # Stage 0, M_base: SFT steps on the knowledge corpus (0: no M_base), random-play views per registered task
    base_steps: int = Field(300, ge=0)
    knowledge_views: int = Field(2, ge=0)
    # data: expert episodes per training task, the latent codebook
    expert_seeds: int = Field(4, ge=1)
    # M_mix also learns this many variants of each D_mix skill call with its target renamed to an invented
    # name (datasets.renamed_skill_calls): copying the task's name, not recalling a training target
    name_copies: int = Field(0, ge=0)
    codebook_size: int = Field(32, ge=2)
    # SFT (paper: lr 8e-6 cosine, 1 epoch; a model trained from scratch needs a larger lr)
    sft_steps: int = Field(600, ge=0)
    sft_steps_per_iter: int = Field(50, ge=1)  # one checkpoint and one metrics line per this many steps
    sft_batch: int = Field(32, ge=1)
    sft_lr: float = Field(2e-3, gt=0)
    # the most rows of one forward and backward pass of SFT and GRPO, gradients summed (None: a whole batch);
    # on 2 CPU cores passes of 8 ran the quick preset's SFT step about a third faster
    # (benchmarks/bench_sft.py); a GPU wants larger passes
    rows_per_pass: int | None = Field(8, ge=1)
    finetune_steps: int = Field(200, ge=0)  # the two STRL SFTs (M_cs1, M_cs2) continue from their parent
    # STRL: rejection sampling, then single-step GRPO (paper: n=4, lr 1e-6, KL 0.01 low_var_kl)
    rs_contexts: int = Field(128, ge=1)  # training contexts sampled for rejection sampling
    strl_iters: int = Field(10, ge=0)
    strl_prompts: int = Field(32, ge=1)
    strl_group: int = Field(4, ge=2)
    rl_lr: float = Field(2e-4, gt=0)
    # MTRL (paper: 8 tasks x 4 envs, lr 5e-6, KL 0.01, clip 0.2, 200 turns)
    mtrl_iters: int = Field(6, ge=0)
    mtrl_tasks: int = Field(8, ge=1)
    mtrl_group: int = Field(4, ge=2)
    token_penalty: float = Field(TOKEN_PENALTY, ge=0)  # lambda: the cost of one policy token in the episode return
    format_penalty: float = Field(FORMAT_PENALTY, ge=0)  # per turn with no executable action (CrossAgent's -0.1)
    max_calls: int = Field(40, ge=1)
    max_ticks: int = Field(600, ge=1)
    # who executes grounding in the env: CraftWorld's oracle (exact segmentation; the published results)
    # or the non-privileged controller (turn to the point, act for a budget); skills are scripted either way
    controllers: Literal["oracle", "agent"] = "oracle"
    # shared by both GRPO stages
    minibatches: int = Field(2, ge=1)
    kl_coef: float = Field(0.01, ge=0)
    clip: float = Field(0.2, gt=0)
    temperature: float = Field(1.0, gt=0)
    max_new_tokens: int = Field(48, ge=4)
    gen_batch: int = Field(128, ge=1)
    # evaluation: the 30 training tasks (ID) and a seeded sample of eval_held_out held-out tasks per category
    # (OOD; None: all of the registry's 1,269), this many seeded episodes each
    eval_held_out: int | None = Field(20, ge=1)
    eval_seeds: int = Field(1, ge=1)
    eval_temperature: float = Field(0.4, ge=0)  # verl's validation temperature
    eval_models: tuple[str, ...] | None = None  # the checkpoints evaluated (ROWS' keys; None: every one trained)
    baselines: bool = True
    ablate_base: bool = False  # also train CrossHA's stages 1-3 from the untrained model (the "w/o M_base" row)
    # decode under each pipeline's generation grammar (llguidance masks; GRPO uses the masked log-probs)
    constrained: bool = False

    @model_validator(mode="after")
    def _token_rows_need_top_layers(self) -> CrossHAConfig:
        if self.train_token_rows and self.train_layers is None:
            raise ValueError("train_token_rows needs train_layers: without it every weight trains already")
        return self

    @field_validator("eval_models", mode="before")
    @classmethod
    def _known_models(cls, value: Any) -> Any:
        names = value.replace(",", " ").split() if isinstance(value, str) else value
        if names is not None and (unknown := [n for n in names if n not in CROSSHA_MODELS]):
            raise ValueError(f"eval_models: unknown {unknown}; the checkpoints are {', '.join(CROSSHA_MODELS)}")
        if names is not None and "crossha" not in names:
            raise ValueError("eval_models must include crossha: the findings compare everything with it")
        return names


#: One preset per budget (ci, quick, pretrained, paper): fields of :class:`CrossHAConfig`, in crossha_presets.toml.
PRESETS: dict[str, dict[str, Any]] = tomllib.loads(Path(__file__).with_name("crossha_presets.toml").read_text())


def preset_config(preset: str, overrides: Sequence[str] = (), **fields: Any) -> CrossHAConfig:
    """The preset's configuration, then each ``"FIELD=VALUE"`` of ``overrides``, then ``fields`` (``None``: unset).

    A ``VALUE`` of ``none`` sets the field to ``None``; pydantic converts the rest from text.

    Raises:
        ValueError: an unknown preset, an override without ``=``, or a field that is unknown or invalid (the
            message lists every one).
    """
    if preset not in PRESETS:
        raise ValueError(f"no preset {preset!r}; the presets are {', '.join(PRESETS)}")
    values: dict[str, Any] = dict(PRESETS[preset])
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"overrides are FIELD=VALUE, got {item!r}")
        values[key.strip()] = None if value.strip().lower() == "none" else value.strip()
    values.update({key: value for key, value in fields.items() if value is not None})
    try:
        return CrossHAConfig(**values)
    except ValidationError as err:
        raise ValueError(str(err)) from None


def tiny_policy(
    cfg: CrossHAConfig, corpus: Sequence[str], *, extra_tokens: Sequence[str] = (), device: torch.device | str = "cpu"
) -> Policy:
    """The tiny Qwen2 (a Qwen2-VL with ``cfg.vision``) of ``cfg``'s sizes and seed, its tokenizer trained on ``corpus``.

    See :func:`~actionspaces.training.tiny.build_tiny_policy`; ``extra_tokens`` are added as single tokens
    (a codebook's :attr:`~actionspaces.controllers.LatentCodebook.tokens`).
    """
    from .tiny import build_tiny_policy

    sizes = {"vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "layers": cfg.layers, "heads": cfg.heads}
    return build_tiny_policy(corpus, extra_tokens=extra_tokens, seed=cfg.seed, vision=cfg.vision, device=device,
                             **sizes)  # fmt: skip


def sft_stage(
    run: TrainingRun,
    cfg: CrossHAConfig,
    name: str,
    parent: TrainablePolicy,
    demos: Sequence[Demonstration],
    *,
    steps: int,
) -> TrainablePolicy:
    """``steps`` SFT steps of ``cfg``'s batch and lr from ``parent``: a stage ``name`` of ``run``, checkpointed.

    :func:`~actionspaces.training.updates.sft_step` in iterations of ``cfg.sft_steps_per_iter`` steps (the
    last one whole), each checkpointed by :func:`~actionspaces.training.stages.train_stage`, so a killed
    run resumes at the iteration in flight.
    """
    from .stages import train_stage
    from .updates import sft_step

    step = sft_step(demos, steps=cfg.sft_steps_per_iter, batch=cfg.sft_batch, rows_per_pass=cfg.rows_per_pass)
    iterations = math.ceil(steps / cfg.sft_steps_per_iter)
    return train_stage(run, name, parent, iterations, lr=cfg.sft_lr, step=step, seed=cfg.seed)


def craftworld_env(cfg: CrossHAConfig, codebook: LatentCodebook | None = None) -> Callable[[str, int], Any]:
    """``make_env(task, seed)``: CraftWorld's text env with ``cfg``'s controllers, ``max_calls`` and ``max_ticks``.

    The factory :func:`~actionspaces.training.rollouts.play_policy` and
    :func:`~actionspaces.training.mtrl.mtrl_step` take; ``codebook`` executes latent codes.
    """
    from ..envs.craftworld import make_text_env

    def make_env(task: str, seed: int) -> Any:
        return make_text_env(task, seed=seed, controllers=cfg.controllers, codebook=codebook,
                             max_calls=cfg.max_calls, max_ticks=cfg.max_ticks)  # fmt: skip

    return make_env


def evaluation_tasks(held_out: int | None) -> list[Task]:
    """The tasks a run is evaluated on: the 30 training ones (ID), then ``held_out`` held-out ones per category (OOD).

    The OOD part is :func:`~actionspaces.envs.craftworld.task_subset` (``None``: every held-out task), so
    every run of one ``eval_held_out`` plays the same tasks.

    Examples:
        >>> tasks = evaluation_tasks(2)
        >>> len(tasks), [t.split for t in tasks[29:31]]
        (36, ['train', 'eval'])
    """
    from ..envs.craftworld import task_subset, tasks

    return tasks("train") + task_subset(held_out)


def evaluations(runs: Sequence[dict[str, Any]], held_out: int | None, *, seed: int = 0) -> Evaluations:
    """``runs`` (one evaluation per seed, model -> results) over :func:`evaluation_tasks`, split ID/OOD by category.

    What :func:`~actionspaces.reporting.findings` and the sweep report judge the recipe's claims on.

    Examples:
        >>> evals = evaluations([], 2)
        >>> sorted(set(evals.splits.values())), evals.categories["mine_block:oak_log"]
        (['ID', 'OOD'], 'mine_block')
    """
    registry = evaluation_tasks(held_out)
    return Evaluations(runs, splits={t.id: "ID" if t.split == "train" else "OOD" for t in registry},
                       categories={t.id: t.category for t in registry}, seed=seed)  # fmt: skip


def observation_frame(cfg: CrossHAConfig) -> Callable[[Any], Any] | None:
    """What a vision model sees of an env: its pov frame, every ``frame_stride``-th pixel (``None``: text only)."""
    from functools import partial

    from ..envs.craftworld.datasets import pov

    return partial(pov, stride=cfg.frame_stride) if cfg.vision else None


def evaluate(
    policy: TrainablePolicy, cfg: CrossHAConfig, make_env: Callable[[str, int], Any], *, name: str
) -> dict[str, Any]:
    """The recipe's evaluation of ``policy``, a model called ``name``, on :func:`evaluation_tasks`.

    ``cfg.eval_seeds`` episodes per task from :data:`EVAL_SEED`, sampled at ``cfg.eval_temperature`` (seeded
    by ``cfg.seed`` and ``name``, so two evaluations of one model sample alike), through ``make_env``: the
    :func:`~actionspaces.evaluation.summarize` of each split and category (FT, ASR, tokens, calls, ticks,
    space shares) and ``"episodes"``, every episode's outcome (for the intervals).

    Examples:
        >>> cfg = preset_config("ci", eval_held_out=1, max_calls=2)  # doctest: +SKIP
        >>> evaluate(policy, cfg, craftworld_env(cfg), name="mix")["OOD/all"]["ASR"]  # doctest: +SKIP
        0.0
    """
    from ..envs.craftworld import CATEGORIES
    from ..evaluation import episode_records, summarize
    from .rollouts import play_policy
    from .stages import seed_iteration

    evals = evaluations([], cfg.eval_held_out)
    jobs = [(task, EVAL_SEED + s) for task in evals.splits for s in range(cfg.eval_seeds)]
    seed_iteration(cfg.seed, "eval/" + name, 0)
    episodes = play_policy(policy, jobs, make_env, temperature=cfg.eval_temperature, frame=observation_frame(cfg),
                           max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch)  # fmt: skip
    summary = summarize(episodes, splits=evals.splits, categories=evals.categories, spaces=SPACE_COLUMNS,
                        order=(("ID", "OOD"), CATEGORIES))  # fmt: skip
    return {**summary, "episodes": episode_records(episodes)}
