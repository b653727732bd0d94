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

    python examples/crossha_train.py --preset quick            # about 7 minutes on 2 CPU cores
    python examples/crossha_train.py --preset paper --device cuda
    python examples/crossha_train.py --preset quick --resume   # continue runs/quick after a kill
    python examples/crossha_train.py --preset quick --constrained --name quick-constrained
    python examples/crossha_train.py --preset quick --vision --name quick-vision  # a tiny Qwen2-VL sees the frame
    python examples/crossha_train.py --preset quick --seeds 0,1,2  # runs/quick/seed-<s>/, summary.md with intervals
    python examples/crossha_train.py --preset pretrained           # from SmolLM2-135M-Instruct (hours on 2 cores)

Everything lands in ``runs/<name>/``: ``config.json``, ``checkpoints/<model>/`` (the previous one kept),
``metrics.jsonl``, ``results.json`` (and OpenHA's per-task ``results_openha.json``), ``results.md`` and
plots; with ``--seeds``, one such run per ``seed-<s>/`` and a ``summary.md`` with 95 % bootstrap intervals.
What a user would otherwise copy is imported from the library: the spaces, ``TextActionEnv``, the
controllers, CraftWorld and its datasets, ``actionspaces.training`` (the policy, stages that resume, STRL,
MTRL, sweeps) and, with ``--constrained``, ``actionspaces.decoding`` (each model samples only what its
pipeline's grammar allows, and GRPO scores it under the same masks).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no Hub: models are built from configs or loaded from a path
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import typer
from pydantic import BaseModel
from tqdm.auto import tqdm

from actionspaces import ChainSpace, LatentSpace, training
from actionspaces.controllers import LatentCodebook
from actionspaces.decoding import GrammarConstraint
from actionspaces.envs.craftworld import CATEGORIES, knowledge_corpus, tasks
from actionspaces.envs.craftworld.datasets import (
    Context,
    Episodes,
    expert_contexts,
    fit_codebook,
    record_episodes,
    renamed_skill_calls,
    strl_contexts,
    tokenizer_corpus,
)
from actionspaces.registry import default_spaces, text_order
from actionspaces.reporting import (
    CROSSHA_MODELS,
    findings,
    read_run_results,
    write_run_report,
    write_sweep_report,
)
from actionspaces.training import RunFileError, refuse_links, set_torch_threads
from actionspaces.training.mtrl import mtrl_step
from actionspaces.training.policy import MARKER_TOKENS, Policy, set_system_prompt, train_top_layers
from actionspaces.training.pretrained import PretrainedUnavailableError, checkpoint_path, load_pretrained
from actionspaces.training.recipe import (
    PRESETS,
    SPACE_COLUMNS,
    craftworld_env,
    evaluate,
    evaluations,
    observation_frame,
    preset_config,
    sft_stage,
    tiny_policy,
)
from actionspaces.training.recipe import CrossHAConfig as Config
from actionspaces.training.rollouts import MakeEnv
from actionspaces.training.stages import Step, TrainingRun, train_stage
from actionspaces.training.strl import FORCED_SPACES, rejection_sample, relabel, strl_step
from actionspaces.training.sweep import Sweep, parse_seeds, run_seeds
from actionspaces.training.updates import Demonstration

# ---- Configuration: Config is actionspaces.training.recipe's CrossHAConfig (every hyper-parameter, the paper's
# values beside them), its presets one per budget (crossha_presets.toml), --set FIELD=VALUE for any field.
PIPELINES = ("mixed", "raw", "grounding", "motion")  # the data each SFT sees: CrossHA's, or one space

# ---- The model (actionspaces.training.policy): a causal LM and its tokenizer, which answers an observation with one
# response; the tiny Qwen2 built from a config, or a checkpoint (a path or a pretrained name).


def training_run(root: Path, cfg: Config, codebook: LatentCodebook, device: torch.device, tb: bool) -> TrainingRun:
    """Checkpoints (the codebook in each) after every iteration of every stage, so --resume loses at most one."""
    load = partial(load_pretrained, device=device, extra_tokens=codebook.tokens, vision=cfg.vision)
    return TrainingRun(root, load=load, attach=lambda d: codebook.save(d / "codebook.json"), tensorboard=tb)


def decoding(cfg: Config) -> dict[str, Any]:
    """How every stage samples: the longest response and the prompts per ``generate``."""
    return {"max_new_tokens": cfg.max_new_tokens, "batch_size": cfg.gen_batch}


# --constrained: each pipeline samples only what its data teaches (single=True: one level per call)
PIPELINE_SPACES = {
    "mixed": text_order(),
    "raw": ("raw",),
    "grounding": ("grounding", "raw"),
    "motion": ("motion", "raw"),
}
Grammars = dict[tuple[str, ...], GrammarConstraint]


def build_grammars(policy: Policy, codebook: LatentCodebook) -> Grammars:
    """A compiled grammar per pipeline, and per single space (rejection sampling forces a space)."""
    chain = ChainSpace(default_spaces({"latent": LatentSpace(codebook_size=codebook.size)}))
    vocab = policy.model.config.get_text_config().vocab_size
    return {k: GrammarConstraint.for_space(policy.tokenizer, chain, spaces=k, single=True, vocab_size=vocab)
            for k in {*PIPELINE_SPACES.values(), *((space,) for space in FORCED_SPACES)}}  # fmt: skip


def under_grammar(policy: Policy, grammars: Grammars | None, pipeline: str) -> Policy:
    """``policy`` sampling under its pipeline's grammar (unchanged without ``grammars``)."""
    return policy if grammars is None else replace(policy, constraint=grammars[PIPELINE_SPACES[pipeline]])


# ---- 1. Supervised fine-tuning on (observation, response) pairs (recipe.sft_stage: cfg's batch and lr, checkpointed).


def demonstrations(pairs: Sequence[tuple[Context, str]]) -> list[Demonstration]:
    """A decision point and the response to learn there, as SFT reads them."""
    return [Demonstration(c.prompt, response, c.frame) for c, response in pairs]


def labelled(data: Sequence[tuple[Context, str]]) -> list[Demonstration]:
    """Each context with its label in the space the dataset chose for it."""
    return demonstrations([(c, c.labels[space]) for c, space in data])


def grpo(run: TrainingRun, cfg: Config, name: str, parent: Policy, step: Step, iterations: int) -> Policy:
    """``iterations`` GRPO steps at ``rl_lr``, with the KL term to ``parent``, checkpointed."""
    return train_stage(run, name, parent, iterations, lr=cfg.rl_lr, step=step, seed=cfg.seed, kl=True)


# ---- 5. Evaluation (recipe.evaluate): ID (the training tasks) and OOD (a stratified sample of the held-out ones),
# per category, through make_env: CraftWorld's text env (recipe.craftworld_env); another env, another factory.


ROWS = CROSSHA_MODELS  # checkpoint -> row label, in the paper's table order
Results = dict[str, Any]  # one run's evaluation: model -> "<split>/<category>" -> metrics, and "episodes"


def evaluate_models(run: TrainingRun, cfg: Config, models: dict[str, Policy], make_env: MakeEnv,
                    done: Results) -> Results:  # fmt: skip
    """``done`` and the evaluation of every model of ``models`` it lacks (each seeded by its name), in ROWS' order."""
    for name in [m for m in ROWS if m in models and m not in done and m in (cfg.eval_models or ROWS)]:
        r = done[name] = run.cached("eval", name, lambda name=name: evaluate(models[name], cfg, make_env, name=name))
        tqdm.write(f"[eval {name}] ID ASR {r['ID/all']['ASR']:.3f}  OOD ASR {r['OOD/all']['ASR']:.3f}  "
                   f"tokens/episode {r['ID/all']['tokens_per_episode']:.1f}")  # fmt: skip
    return {m: done[m] for m in ROWS if m in done}


def write_report(run: TrainingRun, cfg: Config, results: Results) -> None:
    """``results.json``, ``results_openha.json``, ``results.md`` and ``curves.png`` / ``spaces.png``."""
    facts = findings(evaluations([results], cfg.eval_held_out, seed=cfg.seed), categories=CATEGORIES)
    panels = [("success", "MTRL success per iteration"), ("tokens_per_episode", "MTRL tokens per episode"),
              ("reward", "STRL reward 1{g=g*}")]  # fmt: skip
    write_run_report(run.root, results, title=f"CrossHA on CraftWorld: run `{cfg.name}`", facts=facts,
                     categories=CATEGORIES, spaces=SPACE_COLUMNS, metrics=run.metrics(), panels=panels,
                     share_models=("mix", "cs2", "crossha", "nostrl_mtrl"))  # fmt: skip


# ---- The recipe, top to bottom.


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
    # 1. mixed-space SFT on D_mix (and, with cfg.name_copies, its skill calls renamed to invented targets) -> M_mix
    renamed = renamed_skill_calls(d_mix, cfg.name_copies, seed=cfg.seed)
    m_mix = sft_stage(run, cfg, prefix + "mix", under_grammar(start, grammars, "mixed"), labelled(d_mix + renamed),
                      steps=cfg.sft_steps)  # fmt: skip

    # 2. STRL, every step judged by the action-space-independent reward 1{g(a) = g(a*)}.
    #    (a) rejection sampling: candidates forced into each space, the equivalent ones kept and rebalanced,
    #        SFT -> M_cs1
    rl_contexts = strl_contexts(d_mix)
    rs_rng = np.random.default_rng(cfg.seed)
    picked = [
        rl_contexts[i] for i in rs_rng.choice(len(rl_contexts), min(cfg.rs_contexts, len(rl_contexts)), replace=False)
    ]
    accepted = run.cached("data", prefix + "rejection_sampled", lambda: rejection_sample(
        m_mix, picked, temperature=cfg.temperature, grammars=grammars, **decoding(cfg)))  # fmt: skip
    tqdm.write(f"rejection sampling: accepted {accepted['accepted']} of {accepted['candidates']} per space")
    kept = demonstrations([(picked[k], text) for k, text in accepted["examples"]])
    m_cs1 = sft_stage(run, cfg, prefix + "cs1", m_mix, labelled(d_mix) + kept, steps=cfg.finetune_steps)
    #    (b) single-step GRPO with that reward -> M_strl
    strl = strl_step(rl_contexts, prompts=cfg.strl_prompts, group=cfg.strl_group, temperature=cfg.temperature,
                     minibatches=cfg.minibatches, clip=cfg.clip, kl_coef=cfg.kl_coef, rows_per_pass=cfg.rows_per_pass,
                     **decoding(cfg))  # fmt: skip
    m_strl = grpo(run, cfg, prefix + "strl", m_cs1, strl, cfg.strl_iters)
    #    (c) self-training relabel: adopt M_strl's greedy answer where it is equivalent, SFT -> M_cs2
    relabelled = run.cached("data", prefix + "relabelled", lambda: relabel(m_strl, d_mix, **decoding(cfg)))
    tqdm.write(f"relabel: adopted {relabelled['adopted']} of {relabelled['total']}")
    relabelled_demos = demonstrations([(d_mix[k][0], text) for k, text in relabelled["examples"]])
    m_cs2 = sft_stage(run, cfg, prefix + "cs2", m_strl, relabelled_demos, steps=cfg.finetune_steps)

    # 3. MTRL: multi-turn GRPO with success - lambda * tokens -> CrossHA
    crossha = grpo(run, cfg, prefix + "crossha", m_cs2, mtrl, cfg.mtrl_iters)
    return {"mix": m_mix, "cs1": m_cs1, "strl": m_strl, "cs2": m_cs2, "crossha": crossha}


def train(cfg: Config, root: Path, device: torch.device, tensorboard: bool = False) -> dict[str, Any]:
    """Run (or resume) every stage of ``cfg`` under ``root`` and return the evaluation of every model."""
    if (root / "results.json").is_file():  # a finished run (a sweep resumed after this seed): read, not retrained
        return read_run_results(root)
    started = time.perf_counter()
    # data: the codebook, then D_mix and the single-space datasets, from the same expert episodes
    episodes = record_episodes(range(cfg.expert_seeds))
    codebook = run_codebook(root / "codebook.json", episodes, cfg.codebook_size)
    run = training_run(root, cfg, codebook, device, tensorboard)
    stride = cfg.frame_stride if cfg.vision else None
    data = {p: expert_contexts(episodes, codebook, p, stride) for p in (PIPELINES if cfg.baselines else ("mixed",))}
    d_mix = data["mixed"]
    tqdm.write(f"D_mix: {len(d_mix)} calls, spaces {dict(Counter(s for _, s in d_mix))}")
    facts = knowledge_corpus(views=cfg.knowledge_views, seed=0)  # Q&A and captions over every registered task
    tqdm.write(f"knowledge corpus: {len(facts)} facts, {dict(Counter(f.kind for f in facts))}")

    # the model: a checkpoint from a path, or the tiny Qwen2 with a tokenizer trained on the world's text
    if cfg.model is not None:
        untrained = run.load(cfg.model)
    elif (resumed := run.resume("base")) is not None:
        untrained = resumed.policy
    else:
        untrained = tiny_policy(cfg, tokenizer_corpus(d_mix, facts), extra_tokens=codebook.tokens, device=device)
        run.save("base", untrained, None, {"iteration": 0, "done": True})
    rows = [*MARKER_TOKENS, *codebook.tokens] if cfg.train_token_rows else []
    train_top_layers(untrained, cfg.train_layers, output_rows=rows)  # a checkpoint reloads trained the same way,
    set_system_prompt(untrained, cfg.system_prompt)  # and prompted the same way
    grammars = build_grammars(untrained, codebook) if cfg.constrained else None

    # 0. M_base: knowledge without behaviour (base_steps=0: none, the ablation). The facts are text: a
    #    vision model sees a blank frame with each, as a VQA corpus without its picture would give it.
    blank = None if d_mix[0][0].frame is None else np.zeros_like(d_mix[0][0].frame)
    knowledge = [Demonstration(f.prompt, f.answer, blank) for f in facts]
    m_base = sft_stage(run, cfg, "knowledge", untrained, knowledge, steps=cfg.base_steps)

    # 1-3. CrossHA's stages, from M_base; MTRL's return is success - lambda * tokens - the format penalty
    make_env = craftworld_env(cfg, codebook)
    mtrl = mtrl_step(make_env, [t.id for t in tasks("train")], tasks_per_step=cfg.mtrl_tasks, group=cfg.mtrl_group,
                     temperature=cfg.temperature, frame=observation_frame(cfg), token_penalty=cfg.token_penalty,
                     format_penalty=cfg.format_penalty, minibatches=cfg.minibatches, clip=cfg.clip,
                     kl_coef=cfg.kl_coef, rows_per_pass=cfg.rows_per_pass, **decoding(cfg))  # fmt: skip
    models = crossha_stages(run, cfg, m_base, d_mix, mtrl, grammars)
    results = evaluate_models(run, cfg, models, make_env, {})  # the claims that matter first, then the baselines

    # 4. baselines, same budgets: single-space SFT then MTRL; CrossHA without STRL (M_mix straight into MTRL);
    #    CrossHA without M_base (its stages from the untrained model)
    if cfg.baselines:
        for space in ("raw", "grounding", "motion"):
            models[f"{space}_sft"] = sft_stage(run, cfg, f"{space}_sft", under_grammar(m_base, grammars, space),
                                               labelled(data[space]), steps=cfg.sft_steps)  # fmt: skip
            models[f"{space}_mtrl"] = grpo(run, cfg, f"{space}_mtrl", models[f"{space}_sft"], mtrl, cfg.mtrl_iters)
        models["nostrl_mtrl"] = grpo(run, cfg, "nostrl_mtrl", models["mix"], mtrl, cfg.mtrl_iters)
    if cfg.ablate_base:
        models["nobase_crossha"] = crossha_stages(run, cfg, untrained, d_mix, mtrl, grammars, "nobase_")["crossha"]

    # 5. evaluation of every model on every task (CrossHA's own were evaluated above, once trained)
    results = evaluate_models(run, cfg, models, make_env, results)
    write_report(run, cfg, results)
    tqdm.write(f"done in {time.perf_counter() - started:.0f} s: {run.root / 'results.md'}")
    return results


# ---- Command line.


def sweep(cfg: Config, seeds: Sequence[int], root: Path, device: torch.device, tensorboard: bool, resume: bool) -> None:
    """Train ``cfg`` once per seed (``root/seed-<s>``, each resumable), then write ``root/summary.md``."""
    started = time.perf_counter()
    runs = run_seeds(root, cfg, seeds, lambda seeded, seed_root: train(seeded, seed_root, device, tensorboard),
                     resume=resume)  # fmt: skip
    evals = evaluations(runs, cfg.eval_held_out, seed=cfg.seed)
    title = f"CrossHA on CraftWorld: `{cfg.name}` over seeds {', '.join(map(str, seeds))}"
    write_sweep_report(root, evals, seeds=seeds, facts=findings(evals, categories=CATEGORIES), title=title,
                       wall_s=time.perf_counter() - started)  # fmt: skip
    tqdm.write(f"sweep done: {root / 'summary.md'}")


Preset = Enum("Preset", {name: name for name in PRESETS}, type=str)  # type: ignore[misc]
app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])
Opt = typer.Option


@app.command()
def main(
    preset: Annotated[Preset, Opt(help="hyper-parameter preset")] = Preset["quick"],  # type: ignore[valid-type]
    name: Annotated[str | None, Opt(help="run name (runs/<name>); the preset's by default")] = None,
    set_: Annotated[list[str] | None, Opt("--set", help="override a config field: --set mtrl_iters=3")] = None,
    model: Annotated[str | None, Opt(help="a checkpoint path, or a pretrained name: smollm2-135m-instruct")] = None,
    device: Annotated[str, Opt(help="cpu or cuda")] = "cpu",
    resume: Annotated[bool, Opt(help="continue runs/<name> from its last checkpoint")] = False,
    overwrite: Annotated[bool, Opt(help="delete runs/<name> and start again")] = False,
    runs_dir: Annotated[Path, Opt(help="where runs are written")] = Path("runs"),
    tensorboard: Annotated[bool, Opt(help="also log to runs/<name>/tensorboard")] = False,
    constrained: Annotated[bool, Opt(help="sample under each pipeline's grammar (extra 'constrained')")] = False,
    vision: Annotated[bool, Opt(help="show the pov frame too (a tiny Qwen2-VL, or --model a Qwen2-VL)")] = False,
    controllers: Annotated[str | None, Opt(help="grounding in the env: 'oracle' or 'agent' (no privilege)")] = None,
    threads: Annotated[int | None, Opt(help="torch threads (default: the cores this process may use)")] = None,
    seeds: Annotated[str | None, Opt(help="one run per seed ('0,1,2'), and a summary with intervals")] = None,
) -> None:
    """Train CrossHA and its baselines on CraftWorld, evaluate them, and write runs/<name>/results.md."""
    try:
        cfg = preset_config(preset.value, set_ or [], name=name, model=model, controllers=controllers,
                            constrained=constrained or None, vision=vision or None)  # fmt: skip
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise typer.BadParameter(f"--device {device}: torch sees no CUDA device")
    try:  # a pretrained name is fetched and converted once, into the cache; any checkpoint is checked
        if cfg.model is not None:
            checkpoint_path(cfg.model, vision=cfg.vision)
        set_torch_threads(threads)
    except (KeyError, FileNotFoundError, ValueError, PretrainedUnavailableError) as err:
        raise typer.BadParameter(str(err.args[0] if isinstance(err, KeyError) else err)) from err
    try:
        seed_list = parse_seeds(seeds) if seeds is not None else None
    except ValueError as err:
        raise typer.BadParameter(f"--seeds: {err}") from err
    try:  # the name stays inside runs_dir; --overwrite removes only a directory a run wrote
        saved: BaseModel = cfg if seed_list is None else Sweep[Config](config=cfg, seeds=seed_list)
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
