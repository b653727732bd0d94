"""CrossHA on CraftWorld: the reference trainer (arXiv 2512.09706, section "Method").

One agent learns to choose, at every step, among five action spaces (Language, Grounding, Motion, Latent,
Raw) and to prefer the most concise one that still succeeds. The script follows the paper's method in
order:

    0. M_base   knowledge without behaviour: SFT on CraftWorld question-answer pairs and captions over every
                registered item, block and mob (train and held out), no action in them         -> M_base
       data     expert trajectories on the 30 training tasks, each step labelled in every space
    1. SFT      mixed-space SFT on D_mix                                              -> M_mix
    2. STRL     rejection-sampled, space-rebalanced SFT                               -> M_cs1
                single-step GRPO with the action-space-independent reward 1{g(a)=g(a*)} -> M_strl
                self-training relabel (adopt M_strl's space where it is equivalent)   -> M_cs2
    3. MTRL     multi-turn GRPO through TextActionEnv, return = success - lambda*tokens -> M_mtrl (CrossHA)
    4. baselines single-space pipelines (raw, grounding, motion: SFT then MTRL), CrossHA without STRL, and
                (--set ablate_base=true) CrossHA's stages 1-3 from the untrained model: without M_base
    5. eval     the training tasks and a seeded sample of the held-out ones, per category (CrossHA's
                models as soon as they are trained, the baselines after them)

Run it:

    python examples/crossha_train.py --preset quick            # 7 to 10 minutes on 2 CPU cores
    python examples/crossha_train.py --preset paper --device cuda
    python examples/crossha_train.py --preset quick --resume   # continue runs/quick after a kill
    python examples/crossha_train.py --preset quick --constrained --name quick-constrained
    python examples/crossha_train.py --preset quick --vision --name quick-vision  # a tiny Qwen2-VL sees the frame
    python examples/crossha_train.py --preset quick --seeds 0,1,2  # runs/quick/seed-<s>/, summary.md with intervals

Everything lands in ``runs/<name>/``: ``config.json``, ``checkpoints/<model>/`` (model, tokenizer,
optimizer, codebook; the previous one kept), ``metrics.jsonl``, ``results.json`` (and the reference's
per-task layout, ``results_openha.json``), ``results.md`` and PNG plots. With ``--seeds`` each seed is such a
run under ``runs/<name>/seed-<s>/``, and ``runs/<name>/summary.md`` gives every cell as a mean and its 95 %
bootstrap interval over tasks and seeds. Only the library's public API is used: the spaces and
``ChainSpace`` through ``TextActionEnv``, the
controllers, CraftWorld and its expert labellers, ``actionspaces.grpo``, ``actionspaces.training`` (the
policy, run directories, checkpoints), and with ``--constrained``
``actionspaces.decoding``: every model then samples only strings its pipeline's grammar allows, and GRPO
scores them under the same masks. With ``--vision`` every prompt also shows the first-person frame, through
a Qwen2-VL's own image processor.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no Hub: models are built from configs or loaded from a path
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from the examples extra
    import tomli as tomllib

import numpy as np
import torch
import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tqdm.auto import tqdm

from actionspaces import ChainSpace, LatentSpace, parse, training
from actionspaces.controllers import LatentCodebook
from actionspaces.decoding import GrammarConstraint
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import (
    CATEGORIES,
    Fact,
    craftworld_controllers,
    knowledge_corpus,
    task_subset,
    tasks,
)
from actionspaces.envs.craftworld.datasets import (
    Context,
    Episodes,
    expert_contexts,
    fit_codebook,
    pov,
    record_episodes,
    strl_contexts,
    tokenizer_corpus,
)
from actionspaces.evaluation import Episode, episode_records, summarize
from actionspaces.grpo import (
    EPS_VERL,
    action_match_reward,
    episode_return,
    group_advantages,
    trajectory_advantages,
)
from actionspaces.registry import default_spaces, space_entry, text_order
from actionspaces.reporting import CROSSHA_MODELS, Evaluations, findings, write_run_report, write_sweep_report
from actionspaces.spaces import latent_token
from actionspaces.token_cost import FORMAT_PENALTY, TOKEN_PENALTY
from actionspaces.training import RUN_NAME_PATTERN, RunFileError, refuse_links, set_torch_threads
from actionspaces.training.policy import Policy, Prompt, check_checkpoint, train_top_layers
from actionspaces.training.policy import sample as sample_responses
from actionspaces.training.pretrained import (
    PRETRAINED,
    PretrainedUnavailableError,
    load_pretrained,
    pretrained_checkpoint,
)
from actionspaces.training.rollouts import MakeEnv, play_policy
from actionspaces.training.stages import Step, TrainingRun, seed_iteration, train_stage
from actionspaces.training.tiny import build_tiny_policy
from actionspaces.training.updates import Demonstration, grpo_update, sft_step

# ====================================================================================================
# Configuration: every hyper-parameter, one preset per budget. Values in comments are the paper's
# (../shared/spec/openha-formats.md section 5), scaled down to a model trained from scratch on CPU.
# ====================================================================================================


class Config(BaseModel):
    """The resolved configuration of a run (saved as ``runs/<name>/config.json``)."""

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
    # Stage 0, M_base: SFT steps on the knowledge corpus (0: no M_base), random-play views per registered task
    base_steps: int = Field(300, ge=0)
    knowledge_views: int = Field(2, ge=0)
    # data: expert episodes per training task, the latent codebook
    expert_seeds: int = Field(4, ge=1)
    codebook_size: int = Field(32, ge=2)
    # SFT (paper: lr 8e-6 cosine, 1 epoch; a model trained from scratch needs a larger lr)
    sft_steps: int = Field(600, ge=0)
    sft_steps_per_iter: int = Field(50, ge=1)  # one checkpoint and one metrics line per this many steps
    sft_batch: int = Field(32, ge=1)
    sft_lr: float = Field(2e-3, gt=0)
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

    @field_validator("eval_models", mode="before")
    @classmethod
    def _known_models(cls, value: Any) -> Any:
        names = value.replace(",", " ").split() if isinstance(value, str) else value
        if names is not None and (unknown := [n for n in names if n not in ROWS]):
            raise ValueError(f"eval_models: unknown {unknown}; the checkpoints are {', '.join(ROWS)}")
        if names is not None and "crossha" not in names:
            raise ValueError("eval_models must include crossha: the findings compare everything with it")
        return names


#: One preset per budget (ci, quick, pretrained, paper): fields of Config, in crossha_presets.toml.
PRESETS: dict[str, dict[str, Any]] = tomllib.loads(Path(__file__).with_name("crossha_presets.toml").read_text())

EVAL_SEED = 1_000_000  # evaluation episodes' first env seed: never one of training's
PIPELINES = ("mixed", "raw", "grounding", "motion")  # the data each SFT sees: CrossHA's, or one space
SPACES = (*text_order(), "none")  # the registry's spaces in text order; "none": nothing executable

# ====================================================================================================
# The model: a policy (actionspaces.training.policy) is a causal LM and its tokenizer; it answers an
# observation with one response. Here: which one, of what size, and the latent codes it must write.
# ====================================================================================================


def latent_tokens(codebook: LatentCodebook) -> list[str]:
    return [latent_token(i) for i in range(codebook.size)]


def knowledge_facts(cfg: Config) -> list[Fact]:
    """Stage 0's corpus: question-answer pairs and captions over every registered task (no action in them)."""
    return knowledge_corpus(views=cfg.knowledge_views, seed=0)


def tiny_policy(cfg: Config, corpus: Sequence[str], codebook: LatentCodebook, device: torch.device) -> Policy:
    """The tiny Qwen2 (a Qwen2-VL with ``cfg.vision``) of ``cfg``'s sizes, its tokenizer trained on ``corpus``."""
    return build_tiny_policy(corpus, extra_tokens=latent_tokens(codebook), vocab_size=cfg.vocab_size,
                             hidden_size=cfg.hidden_size, layers=cfg.layers, heads=cfg.heads, seed=cfg.seed,
                             vision=cfg.vision, device=device)  # fmt: skip


def checkpoint_policy(path: str | Path, codebook: LatentCodebook, device: torch.device, vision: bool = False) -> Policy:
    """A checkpoint (ours, ``--model PATH`` or a pretrained name) that can write every space, latent codes included."""
    return load_pretrained(path, device=device, extra_tokens=latent_tokens(codebook), vision=vision)


def sample(policy: Policy, prompts: Sequence[Prompt], temperature: float, cfg: Config) -> list[list[int]]:
    """One response per prompt, at most ``cfg.max_new_tokens`` tokens, ``cfg.gen_batch`` prompts per generate."""
    return sample_responses(policy, prompts, temperature, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch)


# ====================================================================================================
# Runs: every stage checkpoints after each iteration (actionspaces.training.stages), so that --resume
# loses at most the iteration in flight; the codebook rides in every checkpoint.
# ====================================================================================================


def training_run(root: Path, cfg: Config, codebook: LatentCodebook, device: torch.device, tb: bool) -> TrainingRun:
    return TrainingRun(root, load=lambda d: checkpoint_policy(d, codebook, device, vision=cfg.vision),
                       attach=lambda d: codebook.save(d / "codebook.json"), tensorboard=tb)  # fmt: skip


# ====================================================================================================
# Constrained decoding (--constrained): each pipeline writes one level per call, in the spaces its data
# teaches; a model can then only write actions that parse.
# ====================================================================================================

PIPELINE_SPACES: dict[str, tuple[str, ...]] = {
    "mixed": ("language", "grounding", "motion", "latent", "raw"),
    "raw": ("raw",),
    "grounding": ("grounding", "raw"),  # single-space data falls back to raw where the space cannot say it
    "motion": ("motion", "raw"),
}
Grammars = dict[tuple[str, ...], GrammarConstraint]


def build_grammars(policy: Policy, codebook: LatentCodebook) -> Grammars:
    """A compiled grammar per pipeline, and per single space (rejection sampling forces a space)."""
    chain = ChainSpace(default_spaces({"latent": LatentSpace(codebook_size=codebook.size)}))
    keys = {*PIPELINE_SPACES.values(), *((space,) for space in PREFIXES)}
    vocab = policy.model.config.get_text_config().vocab_size
    return {k: GrammarConstraint.for_space(policy.tokenizer, chain, spaces=k, single=True, vocab_size=vocab)
            for k in keys}  # fmt: skip


def under_grammar(policy: Policy, grammars: Grammars | None, pipeline: str) -> Policy:
    """``policy`` sampling under its pipeline's grammar (unchanged without ``grammars``)."""
    return policy if grammars is None else replace(policy, constraint=grammars[PIPELINE_SPACES[pipeline]])


# ====================================================================================================
# 1. Supervised fine-tuning on (observation, response) pairs.
# ====================================================================================================


def demonstrations(pairs: Sequence[tuple[Context, str]]) -> list[Demonstration]:
    """A decision point and the response to learn there, as SFT reads them."""
    return [Demonstration(c.prompt, response, c.frame) for c, response in pairs]


def labelled(data: Sequence[tuple[Context, str]]) -> list[Demonstration]:
    """Each context with its label in the space the dataset chose for it."""
    return demonstrations([(c, c.labels[space]) for c, space in data])


def sft(run: TrainingRun, cfg: Config, name: str, parent: Policy, demos: Sequence[Demonstration], steps: int) -> Policy:
    """``steps`` AdamW steps of next-token loss on the responses (prompt tokens masked), checkpointed."""
    step = sft_step(demos, steps=cfg.sft_steps_per_iter, batch=cfg.sft_batch)
    return train_stage(run, name, parent, math.ceil(steps / cfg.sft_steps_per_iter), lr=cfg.sft_lr, step=step,
                       seed=cfg.seed)  # fmt: skip


# ====================================================================================================
# 2. STRL: single-step RL with the action-space-independent reward g(.).
# ====================================================================================================

PREFIXES = {name: space_entry(name).prefix for name in ("raw", "motion", "grounding", "latent")}


def g_match(response: str, context: Context) -> float:
    """1{g(response) = g(expert)}: the first env tick, camera in whole degrees (CrossAgent's mix_coa reward)."""
    return action_match_reward(response, context.labels["raw"], state=context.state, mode="openha_strl")


def rejection_sample(
    policy: Policy, contexts: Sequence[Context], cfg: Config, grammars: Grammars | None = None
) -> dict[str, Any]:
    """Diversity-enhanced data: candidates forced to start in each space; keep those g-equivalent to the expert.

    The space is forced by its prefix at the end of the prompt or, with ``grammars``, by that space's
    grammar. Language has no first tick to compare (a skill is closed-loop), so its examples stay D_mix's.
    The kept candidates are rebalanced: no space contributes more than the median count of the spaces
    that have any. Each example is ``[index into contexts, response]``.
    """
    jobs = [(k, space) for k in range(len(contexts)) for space in PREFIXES]
    prompts = [policy.prompt(c.prompt, c.frame) for c in contexts]
    if grammars is None:
        forced = [replace(prompts[k], text=prompts[k].text + PREFIXES[space]) for k, space in jobs]
        responses = sample(policy, forced, cfg.temperature, cfg)
        texts = [PREFIXES[space] + policy.decode(ids) for (_, space), ids in zip(jobs, responses, strict=True)]
    else:  # one batch per space, each under that space's grammar (which writes the prefix itself)
        by_space = {
            space: iter(sample(replace(policy, constraint=grammars[(space,)]), prompts, cfg.temperature, cfg))
            for space in PREFIXES
        }
        texts = [policy.decode(next(by_space[space])) for _, space in jobs]
    kept: dict[str, list[list[int | str]]] = defaultdict(list)
    for (k, space), text in zip(jobs, texts, strict=True):
        if g_match(text, contexts[k]):
            kept[space].append([k, text])
    counts = {space: len(kept[space]) for space in PREFIXES}
    cap = int(np.median([n for n in counts.values() if n])) if any(counts.values()) else 0
    examples = [ex for space in PREFIXES for ex in kept[space][:cap]]
    return {"examples": examples, "accepted": counts, "candidates": len(contexts), "cap": cap}


def strl_step(cfg: Config, contexts: Sequence[Context]) -> Step:
    """GRPO on single steps: ``strl_group`` samples per context, reward 1{g(a)=g(a*)}."""

    def step(policy: Policy, optimizer: torch.optim.Optimizer, it: int, ref: Policy | None) -> dict[str, float]:
        batch = [contexts[i] for i in np.random.choice(len(contexts), cfg.strl_prompts, replace=False)]
        group = [c for c in batch for _ in range(cfg.strl_group)]
        prompts = [policy.prompt(c.prompt, c.frame) for c in group]
        responses = sample(policy, prompts, cfg.temperature, cfg)
        texts = [policy.decode(r) for r in responses]
        rewards = torch.tensor([g_match(t, c) for t, c in zip(texts, group, strict=True)])
        advantages = group_advantages(rewards, cfg.strl_group, eps=EPS_VERL)
        metrics = grpo_update(policy, optimizer, prompts, responses, advantages, reference=ref,
                              minibatches=cfg.minibatches, clip=cfg.clip, kl_coef=cfg.kl_coef)  # fmt: skip
        return {"reward": rewards.mean().item(), "tokens": float(np.mean([len(r) for r in responses])), **metrics}

    return step


def executed_space(text: str) -> str:
    """The space of the level a response executes, however it is written (prefixed, tagged or bare)."""
    level = parse(text).executable
    return level.space if level is not None else "none"


def relabel(policy: Policy, data: Sequence[tuple[Context, str]], cfg: Config) -> dict[str, Any]:
    """Self-training relabel: where M_strl's greedy answer is g-equivalent to the label, adopt it (and its space).

    Each example is ``[index into data, response]``.
    """
    responses = sample(policy, [policy.prompt(c.prompt, c.frame) for c, _ in data], 0.0, cfg)
    examples: list[list[int | str]] = []
    adopted: Counter[str] = Counter()
    for k, ((context, space), ids) in enumerate(zip(data, responses, strict=True)):
        text = policy.decode(ids)
        if space != "language" and g_match(text, context):
            examples.append([k, text])
            adopted[executed_space(text)] += 1
        else:
            examples.append([k, context.labels[space]])
    return {"examples": examples, "adopted": dict(adopted), "total": len(data)}


# ====================================================================================================
# 3. MTRL: multi-turn GRPO in TextActionEnv; return = success - lambda * policy tokens.
# ====================================================================================================


def craftworld_env(cfg: Config, codebook: LatentCodebook) -> MakeEnv:
    """``make_env(task, seed)``: a TextActionEnv over CraftWorld (another env needs only another factory)."""

    def make_env(task: str, seed: int) -> TextActionEnv:
        world = CraftWorld(task, max_ticks=cfg.max_ticks)
        controllers = craftworld_controllers(cfg.controllers, seed=seed)  # latent's comes from the codebook
        return TextActionEnv(world, codebook=codebook, max_calls=cfg.max_calls, controllers=controllers)

    return make_env


def rollout(
    policy: Policy, episodes: Sequence[tuple[str, int]], temperature: float, cfg: Config, make_env: MakeEnv
) -> list[Episode]:
    """Play every ``(task, seed)`` episode to the end; each turn, one batched generate over the live envs."""
    frame = partial(pov, stride=cfg.frame_stride) if cfg.vision else None
    return play_policy(policy, episodes, make_env, temperature=temperature, max_new_tokens=cfg.max_new_tokens,
                       batch_size=cfg.gen_batch, frame=frame)  # fmt: skip


def call_shares(episodes: Sequence[Episode]) -> dict[str, float]:
    """The share of calls executed in each space (``"none"``: the call had nothing executable)."""
    calls = [t.space or "none" for e in episodes for t in e.turns]
    return {s: calls.count(s) / len(calls) for s in SPACES}


def mtrl_return(episode: Episode, cfg: Config) -> float:
    """success - lambda * policy tokens - the format penalty per call with nothing executable."""
    unparsed = sum(t.space is None for t in episode.turns)
    return episode_return(episode.success, [t.tokens for t in episode.turns], unparsed,
                          token_penalty=cfg.token_penalty, format_penalty=cfg.format_penalty)  # fmt: skip


def mtrl_step(cfg: Config, make_env: MakeEnv) -> Step:
    """``mtrl_tasks`` training tasks, ``mtrl_group`` rollouts of each from one seed, trajectory-level GRPO."""
    train_tasks = [t.id for t in tasks("train")]

    def step(policy: Policy, optimizer: torch.optim.Optimizer, it: int, ref: Policy | None) -> dict[str, float]:
        chosen = np.random.choice(train_tasks, cfg.mtrl_tasks, replace=False)
        seeds = np.random.randint(1_000, 1_000_000, size=cfg.mtrl_tasks)
        jobs = [(str(t), int(s)) for t, s in zip(chosen, seeds, strict=True) for _ in range(cfg.mtrl_group)]
        episodes = rollout(policy, jobs, cfg.temperature, cfg, make_env)
        returns = [mtrl_return(e, cfg) for e in episodes]
        rows = [(k, j) for k, e in enumerate(episodes) for j in range(e.calls)]
        scores = torch.tensor([returns[k] for k, _ in rows])
        groups = [k // cfg.mtrl_group for k, _ in rows]
        advantages = trajectory_advantages(scores, groups, [k for k, _ in rows], eps=EPS_VERL)
        prompts = [episodes[k].turns[j].prompt for k, j in rows]
        responses = [episodes[k].turns[j].response for k, j in rows]
        metrics = grpo_update(policy, optimizer, prompts, responses, advantages, reference=ref,
                              minibatches=cfg.minibatches, clip=cfg.clip, kl_coef=cfg.kl_coef)  # fmt: skip
        shares = {f"share_{s}": v for s, v in call_shares(episodes).items() if s != "none"}
        return {
            "success": float(np.mean([e.success for e in episodes])),
            "return": float(np.mean(returns)),
            "tokens_per_episode": float(np.mean([e.tokens for e in episodes])),
            "calls_per_episode": float(np.mean([e.calls for e in episodes])),
            **metrics,
            **shares,
        }

    return step


# ====================================================================================================
# 5. Evaluation: ID (the training tasks) and OOD (a stratified sample of the held-out ones), per category.
# ====================================================================================================


ROWS = CROSSHA_MODELS  # checkpoint -> row label, in the paper's table order
Results = dict[str, Any]  # one run's evaluation: model -> "<split>/<category>" -> metrics, and "episodes"


def evaluations(runs: Sequence[Results], cfg: Config) -> Evaluations:
    """The runs (one per seed) over the tasks ``evaluate`` plays: the 30 training ones (ID), then the OOD sample."""
    registry = tasks("train") + task_subset(cfg.eval_held_out)
    return Evaluations(runs, splits={t.id: "ID" if t.split == "train" else "OOD" for t in registry},
                       categories={t.id: t.category for t in registry}, seed=cfg.seed)  # fmt: skip


def evaluate(policy: Policy, cfg: Config, make_env: MakeEnv) -> dict[str, Any]:
    """FT (share of tasks solved at least once) and ASR (mean success), tokens, ticks, calls, space shares."""
    evals = evaluations([], cfg)
    jobs = [(task, EVAL_SEED + s) for task in evals.splits for s in range(cfg.eval_seeds)]
    episodes = rollout(policy, jobs, cfg.eval_temperature, cfg, make_env)
    summary = summarize(episodes, splits=evals.splits, categories=evals.categories, spaces=SPACES,
                        order=(("ID", "OOD"), CATEGORIES))  # fmt: skip
    return {**summary, "episodes": episode_records(episodes)}  # the per-episode outcomes, for error bars


# ====================================================================================================
# Reporting: results.json, results.md and the plots.
# ====================================================================================================


def write_report(run: TrainingRun, cfg: Config, results: Results) -> None:
    """``results.json``, ``results_openha.json``, ``results.md`` and ``curves.png`` / ``spaces.png``."""
    facts = findings(evaluations([results], cfg), categories=CATEGORIES)
    panels = [("success", "MTRL success per iteration"), ("tokens_per_episode", "MTRL tokens per episode"),
              ("reward", "STRL reward 1{g=g*}")]  # fmt: skip
    write_run_report(run.root, results, title=f"CrossHA on CraftWorld: run `{cfg.name}`", facts=facts,
                     categories=CATEGORIES, spaces=SPACES, metrics=run.metrics(), panels=panels,
                     share_models=("mix", "cs2", "crossha", "nostrl_mtrl"))  # fmt: skip


# ====================================================================================================
# The recipe, top to bottom.
# ====================================================================================================


def run_codebook(path: Path, episodes: Episodes, size: int) -> LatentCodebook:
    """The run's codebook: loaded, or fitted (again, if its file is damaged: the fit is deterministic)."""
    try:
        return LatentCodebook.load(path)
    except (FileNotFoundError, ValueError) as err:
        if path.exists():
            tqdm.write(f"{err}: fitting it again")
    codebook = fit_codebook(episodes, size)
    codebook.save(refuse_links(path))
    return codebook


def crossha_stages(
    run: TrainingRun, cfg: Config, start: Policy, d_mix: Sequence[tuple[Context, str]], mtrl: Step,
    grammars: Grammars | None, prefix: str = "",
) -> dict[str, Policy]:  # fmt: skip
    """Stages 1 to 3 from ``start``: M_mix, M_cs1, M_strl, M_cs2 and CrossHA (checkpoints named ``prefix + stage``)."""
    # 1. mixed-space SFT on D_mix -> M_mix
    m_mix = sft(run, cfg, prefix + "mix", under_grammar(start, grammars, "mixed"), labelled(d_mix), cfg.sft_steps)

    # 2. STRL. (a) rejection sampling in every space, rebalanced, SFT -> M_cs1
    rl_contexts = strl_contexts(d_mix)
    rs_rng = np.random.default_rng(cfg.seed)
    picked = [
        rl_contexts[i] for i in rs_rng.choice(len(rl_contexts), min(cfg.rs_contexts, len(rl_contexts)), replace=False)
    ]
    accepted = run.cached("data", prefix + "rejection_sampled", lambda: rejection_sample(m_mix, picked, cfg, grammars))
    tqdm.write(f"rejection sampling: accepted {accepted['accepted']} of {accepted['candidates']} per space")
    kept = demonstrations([(picked[k], text) for k, text in accepted["examples"]])
    m_cs1 = sft(run, cfg, prefix + "cs1", m_mix, labelled(d_mix) + kept, cfg.finetune_steps)
    # (b) single-step GRPO with 1{g(a) = g(a*)} -> M_strl
    m_strl = train_stage(run, prefix + "strl", m_cs1, cfg.strl_iters, lr=cfg.rl_lr, step=strl_step(cfg, rl_contexts),
                         seed=cfg.seed, kl=True)  # fmt: skip
    # (c) self-training relabel: adopt M_strl's answer where it is equivalent, SFT -> M_cs2
    relabelled = run.cached("data", prefix + "relabelled", lambda: relabel(m_strl, d_mix, cfg))
    tqdm.write(f"relabel: adopted {relabelled['adopted']} of {relabelled['total']}")
    relabelled_demos = demonstrations([(d_mix[k][0], text) for k, text in relabelled["examples"]])
    m_cs2 = sft(run, cfg, prefix + "cs2", m_strl, relabelled_demos, cfg.finetune_steps)

    # 3. MTRL: multi-turn GRPO with success - lambda * tokens -> CrossHA
    crossha = train_stage(run, prefix + "crossha", m_cs2, cfg.mtrl_iters, lr=cfg.rl_lr, step=mtrl, seed=cfg.seed,
                          kl=True)  # fmt: skip
    return {"mix": m_mix, "cs1": m_cs1, "strl": m_strl, "cs2": m_cs2, "crossha": crossha}


def evaluate_models(run: TrainingRun, cfg: Config, models: dict[str, Policy], make_env: MakeEnv,
                    done: Results) -> Results:  # fmt: skip
    """``done`` and the evaluation of every model of ``models`` it lacks (each seeded by its name), in ROWS' order."""
    for name in [m for m in ROWS if m in models and m not in done and m in (cfg.eval_models or ROWS)]:
        seed_iteration(cfg.seed, "eval/" + name, 0)
        r = done[name] = run.cached("eval", name, lambda name=name: evaluate(models[name], cfg, make_env))
        tqdm.write(f"[eval {name}] ID ASR {r['ID/all']['ASR']:.3f}  OOD ASR {r['OOD/all']['ASR']:.3f}  "
                   f"tokens/episode {r['ID/all']['tokens_per_episode']:.1f}")  # fmt: skip
    return {m: done[m] for m in ROWS if m in done}


def train(cfg: Config, root: Path, device: torch.device, tensorboard: bool = False) -> dict[str, Any]:
    """Run (or resume) every stage of ``cfg`` under ``root`` and return the evaluation of every model."""
    started = time.perf_counter()
    # data: the codebook, then D_mix and the single-space datasets, from the same expert episodes
    episodes = record_episodes(range(cfg.expert_seeds))
    codebook = run_codebook(root / "codebook.json", episodes, cfg.codebook_size)
    run = training_run(root, cfg, codebook, device, tensorboard)
    stride = cfg.frame_stride if cfg.vision else None
    data = {p: expert_contexts(episodes, codebook, p, stride) for p in (PIPELINES if cfg.baselines else ("mixed",))}
    d_mix = data["mixed"]
    tqdm.write(f"D_mix: {len(d_mix)} calls, spaces {dict(Counter(s for _, s in d_mix))}")
    facts = knowledge_facts(cfg)
    tqdm.write(f"knowledge corpus: {len(facts)} facts, {dict(Counter(f.kind for f in facts))}")

    # the model: a checkpoint from a path, or the tiny Qwen2 with a tokenizer trained on the world's text
    if cfg.model is not None:
        untrained = checkpoint_policy(cfg.model, codebook, device, vision=cfg.vision)
    elif (resumed := run.resume("base")) is not None:
        untrained = resumed.policy
    else:
        untrained = tiny_policy(cfg, tokenizer_corpus(d_mix, facts), codebook, device)
        run.save("base", untrained, None, {"iteration": 0, "done": True})
    train_top_layers(untrained, cfg.train_layers)  # a checkpoint reloads with the same layers frozen
    grammars = build_grammars(untrained, codebook) if cfg.constrained else None

    # 0. M_base: knowledge without behaviour (base_steps=0: none, the ablation). The facts are text: a
    #    vision model sees a blank frame with each, as a VQA corpus without its picture would give it.
    blank = None if d_mix[0][0].frame is None else np.zeros_like(d_mix[0][0].frame)
    knowledge = [Demonstration(f.prompt, f.answer, blank) for f in facts]
    m_base = sft(run, cfg, "knowledge", untrained, knowledge, cfg.base_steps)

    # 1-3. CrossHA's stages, from M_base
    make_env = craftworld_env(cfg, codebook)  # the env every episode plays: another env, another factory
    mtrl = mtrl_step(cfg, make_env)
    models = crossha_stages(run, cfg, m_base, d_mix, mtrl, grammars)
    results = evaluate_models(run, cfg, models, make_env, {})  # the claims that matter first, then the baselines

    # 4. baselines, same budgets: single-space SFT then MTRL; CrossHA without STRL (M_mix straight into MTRL);
    #    CrossHA without M_base (its stages from the untrained model)
    if cfg.baselines:
        for space in ("raw", "grounding", "motion"):
            models[f"{space}_sft"] = sft(run, cfg, f"{space}_sft", under_grammar(m_base, grammars, space),
                                         labelled(data[space]), cfg.sft_steps)  # fmt: skip
            models[f"{space}_mtrl"] = train_stage(run, f"{space}_mtrl", models[f"{space}_sft"], cfg.mtrl_iters,
                                                  lr=cfg.rl_lr, step=mtrl, seed=cfg.seed, kl=True)  # fmt: skip
        models["nostrl_mtrl"] = train_stage(run, "nostrl_mtrl", models["mix"], cfg.mtrl_iters, lr=cfg.rl_lr,
                                            step=mtrl, seed=cfg.seed, kl=True)  # fmt: skip
    if cfg.ablate_base:
        models["nobase_crossha"] = crossha_stages(run, cfg, untrained, d_mix, mtrl, grammars, "nobase_")["crossha"]

    # 5. evaluation of every model on every task (CrossHA's own were evaluated above, once trained)
    results = evaluate_models(run, cfg, models, make_env, results)
    write_report(run, cfg, results)
    tqdm.write(f"done in {time.perf_counter() - started:.0f} s: {run.root / 'results.md'}")
    return results


# ====================================================================================================
# Command line.
# ====================================================================================================


class Sweep(BaseModel):
    """A multi-seed run (``runs/<name>/config.json``): the configuration, and the seeds each run of it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config: Config
    seeds: tuple[int, ...] = Field(min_length=1)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` (or ``"0 1 2"``) -> ``(0, 1, 2)``: distinct non-negative integers."""
    try:
        seeds = tuple(int(part) for part in text.replace(",", " ").split())
    except ValueError:
        raise typer.BadParameter(f"--seeds takes integers separated by commas, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise typer.BadParameter(f"--seeds takes distinct non-negative integers, got {text!r}")
    return seeds


def sweep(cfg: Config, seeds: Sequence[int], root: Path, device: torch.device, tensorboard: bool, resume: bool) -> None:
    """Train ``cfg`` once per seed (``root/seed-<s>``, each resumable), then write ``root/summary.md``."""
    started = time.perf_counter()
    runs = []
    for seed in seeds:
        tqdm.write(f"=== seed {seed} ===")
        seeded = cfg.model_copy(update={"seed": seed})
        try:
            seed_root = training.open_run(root, f"seed-{seed}", seeded, resume=resume, overwrite=False)
        except (ValueError, OSError) as err:
            raise RunFileError(f"seed {seed}: {err}") from err
        runs.append(train(seeded, seed_root, device, tensorboard))
    evals = evaluations(runs, cfg)
    title = f"CrossHA on CraftWorld: `{cfg.name}` over seeds {', '.join(map(str, seeds))}"
    write_sweep_report(root, evals, seeds=seeds, facts=findings(evals, categories=CATEGORIES), title=title,
                       wall_s=time.perf_counter() - started)  # fmt: skip
    tqdm.write(f"sweep done: {root / 'summary.md'}")


Preset = Enum("Preset", {name: name for name in PRESETS}, type=str)  # type: ignore[misc]
app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(
    preset: Annotated[Preset, typer.Option(help="hyper-parameter preset")] = Preset["quick"],  # type: ignore[valid-type]
    name: Annotated[str | None, typer.Option(help="run name (runs/<name>); the preset's by default")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a config field: --set mtrl_iters=3")] = None,
    model: Annotated[
        str | None,
        typer.Option(help="start from a Hugging Face checkpoint path or a pretrained name: smollm2-135m-instruct"),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    resume: Annotated[bool, typer.Option(help="continue runs/<name> from its last checkpoint")] = False,
    overwrite: Annotated[bool, typer.Option(help="delete runs/<name> and start again")] = False,
    runs_dir: Annotated[Path, typer.Option(help="where runs are written")] = Path("runs"),
    tensorboard: Annotated[bool, typer.Option(help="also log to runs/<name>/tensorboard")] = False,
    constrained: Annotated[
        bool, typer.Option(help="sample under each pipeline's grammar (the 'constrained' extra: llguidance)")
    ] = False,
    vision: Annotated[
        bool, typer.Option(help="show the model the pov frame too (a tiny Qwen2-VL, or --model a Qwen2-VL checkpoint)")
    ] = False,
    controllers: Annotated[
        str | None, typer.Option(help="grounding in the env: 'oracle' (exact segmentation) or 'agent' (no privilege)")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="torch threads; by default the cores this process may use (its affinity)")
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="one run per seed ('0,1,2'): runs/<name>/seed-<s>/, a summary with intervals")
    ] = None,
) -> None:
    """Train CrossHA and its baselines on CraftWorld, evaluate them, and write runs/<name>/results.md."""
    values: dict[str, Any] = dict(PRESETS[preset.value])
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set takes KEY=VALUE, got {item!r}")
        values[key.strip()] = None if value.strip().lower() == "none" else value.strip()
    flags = {"name": name, "model": model, "controllers": controllers, "constrained": constrained or None,
             "vision": vision or None}  # fmt: skip
    values.update({key: value for key, value in flags.items() if value is not None})
    try:
        cfg = Config(**values)
    except ValidationError as err:
        raise typer.BadParameter(str(err)) from err
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise typer.BadParameter(f"--device {device}: torch sees no CUDA device")
    if cfg.model is not None:  # a pretrained name is fetched and converted once, into the cache
        try:
            check_checkpoint(
                pretrained_checkpoint(cfg.model) if cfg.model in PRETRAINED else Path(cfg.model), cfg.vision
            )
        except (FileNotFoundError, ValueError, PretrainedUnavailableError) as err:
            raise typer.BadParameter(str(err)) from err
    try:
        set_torch_threads(threads)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    seed_list = parse_seeds(seeds) if seeds is not None else None
    try:  # the name stays inside runs_dir; --overwrite removes only a directory a run wrote
        saved: BaseModel = cfg if seed_list is None else Sweep(config=cfg, seeds=seed_list)
        root = training.open_run(runs_dir, cfg.name, saved, resume=resume, overwrite=overwrite)
    except (ValueError, OSError) as err:
        raise typer.BadParameter(f"{err} (see --name, --resume, --overwrite)") from err
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # one bar per loop is ours; save_pretrained's would interleave
    try:  # a damaged or linked run file is named, not shown as a traceback
        if seed_list is None:
            train(cfg, root, torch.device(device), tensorboard)
        else:
            sweep(cfg, seed_list, root, torch.device(device), tensorboard, resume)
    except (RunFileError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
