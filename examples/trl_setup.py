"""What the TRL examples share: the quick preset's data and a policy (a checkpoint, or the tiny Qwen2).

TRL's trainers load a model from a path (the reference model too), so :func:`saved_policy` writes the
policy to a temporary directory for the duration of the run.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import trl
from accelerate import PartialState
from accelerate.utils import broadcast_object_list

from actionspaces.controllers import LatentCodebook
from actionspaces.envs.craftworld import knowledge_corpus
from actionspaces.envs.craftworld.datasets import (
    Context,
    expert_contexts,
    fit_codebook,
    record_episodes,
    tokenizer_corpus,
)
from actionspaces.training.policy import Policy
from actionspaces.training.pretrained import load_pretrained
from actionspaces.training.recipe import CrossHAConfig, preset_config, tiny_policy

__all__ = ["end_processes", "grpo_config", "processes", "quick_setup", "saved_policy"]


def quick_setup(model: Path | None) -> tuple[CrossHAConfig, LatentCodebook, list[tuple[Context, str]], Policy]:
    """The quick preset's config, codebook and D_mix, and the policy at ``model`` (the tiny Qwen2 without one)."""
    cfg = preset_config("quick")
    episodes = record_episodes(range(cfg.expert_seeds))
    codebook_path = model / "codebook.json" if model else None
    codebook = (
        LatentCodebook.load(codebook_path)
        if codebook_path and codebook_path.is_file()
        else fit_codebook(episodes, cfg.codebook_size)
    )
    d_mix = expert_contexts(episodes, codebook, "mixed")
    if model is not None:
        policy = load_pretrained(model, extra_tokens=codebook.tokens)
    else:  # as the reference trainer builds it: the preset's sizes, a tokenizer trained on the world's text
        corpus = tokenizer_corpus(d_mix, knowledge_corpus(views=cfg.knowledge_views, seed=0))
        policy = tiny_policy(cfg, corpus, extra_tokens=codebook.tokens)
    return cfg, codebook, d_mix, policy


def processes() -> PartialState:
    """This run's processes (one, or those ``torchrun``/``accelerate launch`` started), on CPU without CUDA.

    ``cpu=True`` matters: without it accelerate reads a CPU run under ``torchrun`` as one process.
    """
    return PartialState(cpu=not torch.cuda.is_available())


def end_processes() -> None:
    """Wait for every rank, then close the process group (under ``torchrun``; nothing on one process).

    Left to the interpreter's exit, the group's communication threads can still be running and the process
    aborts ("terminate called without an active exception"): the run's work is done, but its exit code is not 0.
    """
    processes().wait_for_everyone()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@contextlib.contextmanager
def saved_policy(policy: Policy) -> Iterator[str]:
    """A temporary directory holding ``policy``'s model and tokenizer, for TRL to load from, on every process.

    Under several processes (``torchrun``, ``accelerate launch``) transformers writes a checkpoint from
    rank 0 only, so rank 0 writes it and tells the others where: each rank then loads the same weights.
    """
    state = processes()
    with tempfile.TemporaryDirectory() if state.is_main_process else contextlib.nullcontext() as tmp:
        if state.is_main_process:
            policy.save(tmp)
        path = [tmp]
        broadcast_object_list(path, from_process=0)  # a no-op on one process
        yield str(path[0])
        state.wait_for_everyone()  # every rank has loaded it before rank 0 deletes it


def grpo_config(cfg: CrossHAConfig, output: Path, steps: int, **overrides: Any) -> trl.GRPOConfig:
    """TRL's ``GRPOConfig`` with the reference trainer's GRPO settings (clip, KL, token-mean), on CPU without CUDA."""
    options: dict[str, Any] = dict(
        output_dir=str(output),
        use_cpu=not torch.cuda.is_available(),
        max_steps=steps,
        max_completion_length=cfg.max_new_tokens,
        temperature=cfg.temperature,
        learning_rate=cfg.rl_lr,
        beta=cfg.kl_coef,  # KL 0.01 to the starting policy
        epsilon=cfg.clip,
        loss_type="dapo",  # verl's token-mean
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        seed=cfg.seed,
    )
    return trl.GRPOConfig(**{**options, **overrides})
