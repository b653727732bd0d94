"""CrossHA's stage 3 (multi-turn GRPO, return = success - lambda * policy tokens) on TRL's ``GRPOTrainer``.

Each dataset prompt names a (task, seed) episode; the library's ``text_env_rollout_func`` plays it in
``TextActionEnv`` over CraftWorld with TRL's own generation backend, one episode per completion, the
env's observations masked out of the loss (``env_mask``). The same script runs on many GPUs unchanged:

    python examples/trl_multiturn.py --model runs/quick/checkpoints/cs2 --steps 50
    accelerate launch --num_processes 8 examples/trl_multiturn.py --model PATH --steps 200 --groups 16
    torchrun --nproc_per_node 2 examples/trl_multiturn.py --model runs/quick/checkpoints/cs2 --groups 4  # CPU
    python examples/trl_multiturn.py --steps 2 --max-calls 3            # a smoke test on the tiny Qwen2

Add ``--vllm`` to generate with vLLM (``trl vllm-serve --model PATH`` on another GPU, server mode).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL

import argparse
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import trl
from datasets import Dataset

from actionspaces.chat import recorded_system_prompt
from actionspaces.envs.craftworld import tasks
from actionspaces.gym_ids import TEXT_CRAFTWORLD_ID
from actionspaces.integrations.trl_rollout import episode_prompts, episode_return_reward, text_env_rollout_func
from trl_setup import end_processes, grpo_config, processes, quick_setup, saved_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a causal-LM checkpoint path")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-calls", type=int, default=None, help="calls per episode (the preset's by default)")
    parser.add_argument("--groups", type=int, default=2, help="GRPO groups (prompts) per step, over all processes")
    parser.add_argument("--vllm", action="store_true", help="generate with a vLLM server (trl vllm-serve)")
    parser.add_argument("--output", type=Path, default=Path("runs/trl_multiturn"))
    args = parser.parse_args()
    cfg, codebook, _, policy = quick_setup(args.model)
    max_calls = args.max_calls or cfg.max_calls
    world = processes().num_processes  # torchrun --nproc_per_node N: the batch is split N ways
    if args.groups < 1 or (args.groups * cfg.mtrl_group) % world:
        parser.error(f"--groups {args.groups} x {cfg.mtrl_group} rollouts must split evenly over {world} processes")

    def make_env(spec: dict[str, Any]) -> gym.Env[Any, str]:
        return gym.make(TEXT_CRAFTWORLD_ID, task=spec["task"], codebook=codebook, max_calls=max_calls,
                        max_ticks=cfg.max_ticks, seed=spec["seed"])  # fmt: skip

    train_tasks = [t.id for t in tasks("train")]
    dataset = Dataset.from_dict({"prompt": episode_prompts(train_tasks, seeds=range(1000, 1004))})
    rollout = text_env_rollout_func(make_env, token_penalty=cfg.token_penalty, format_penalty=cfg.format_penalty,
                                    max_turns=max_calls, system=recorded_system_prompt(policy))  # fmt: skip
    with saved_policy(policy) as tmp:
        config = grpo_config(
            cfg,
            args.output,
            args.steps,
            per_device_train_batch_size=args.groups * cfg.mtrl_group // world,
            num_generations=cfg.mtrl_group,  # rollouts per (task, seed): one GRPO group
            use_vllm=args.vllm,
            vllm_mode="server",
        )
        trainer = trl.GRPOTrainer(
            model=tmp,
            reward_funcs=[episode_return_reward],
            args=config,
            train_dataset=dataset,
            processing_class=policy.tokenizer,
            rollout_func=rollout,
        )
        trainer.train()
    trainer.save_model(str(args.output))
    codebook.save(args.output / "codebook.json")
    returns = [e["reward"] for e in trainer.state.log_history if "reward" in e]
    if trainer.accelerator.is_main_process:
        (args.output / "returns.json").write_text(json.dumps({"processes": world, "returns": returns}))
        print(
            f"{len(returns)} multi-turn GRPO steps on {world} process(es); mean episode return per step: "
            + " ".join(f"{r:.3f}" for r in returns)
        )
        print(f"saved to {args.output}")
    end_processes()


if __name__ == "__main__":
    main()
