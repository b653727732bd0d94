"""CrossHA's single-step GRPO (stage 2b) with TRL's ``GRPOTrainer`` instead of the reference trainer's loop.

For users who scale with TRL: the dataset holds one row per expert decision point (the prompt, the
expert's raw action as ``solution``, the view ``state`` that grounding and motion answers are executed
in), and the reward is our ``action_match_reward_func`` in CrossAgent's ``openha_strl`` mode (first tick,
camera in whole degrees), plus the format penalty.

    python examples/trl_grpo.py --model runs/quick/checkpoints/cs1 --steps 20
    python examples/trl_grpo.py --steps 2                      # an untrained tiny Qwen2, as a smoke test

The model is any causal LM saved at a path (a checkpoint of ``crossha_train.py``, or your own); without
``--model`` a tiny Qwen2 and its tokenizer are built here as the reference trainer builds them.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
from pathlib import Path

import trl
from datasets import Dataset

from actionspaces.chat import opening_messages, recorded_system_prompt
from actionspaces.envs.craftworld.datasets import Context, strl_contexts
from actionspaces.integrations.trl import action_match_reward_func, format_reward_func
from trl_setup import grpo_config, quick_setup, saved_policy


def strl_dataset(contexts: list[Context], system: str | None) -> Dataset:
    """Conversational prompts of D_mix's decision points (``system`` first), their expert raw action and view state."""
    return Dataset.from_list(
        [
            {
                "prompt": opening_messages(c.prompt, system),
                "solution": c.labels["raw"],
                "state": c.state.model_dump(),
            }
            for c in contexts
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a causal-LM checkpoint path")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--output", type=Path, default=Path("runs/trl_grpo"))
    args = parser.parse_args()
    cfg, _, d_mix, policy = quick_setup(args.model)
    dataset = strl_dataset(strl_contexts(d_mix), recorded_system_prompt(policy))
    with saved_policy(policy) as tmp:  # GRPOTrainer loads the policy (and its reference) from a path
        config = grpo_config(
            cfg,
            args.output,
            args.steps,
            per_device_train_batch_size=16,
            num_generations=4,  # CrossAgent STRL: n = 4
        )
        trainer = trl.GRPOTrainer(
            model=tmp,
            # the tokenizer: rewards read completion_ids with the special tokens TRL's decode drops
            reward_funcs=[
                action_match_reward_func(mode="openha_strl", tokenizer=policy.tokenizer),
                format_reward_func(penalty=0.1, tokenizer=policy.tokenizer),
            ],
            args=config,
            train_dataset=dataset,
            processing_class=policy.tokenizer,
        )
        trainer.train()
    trainer.save_model(str(args.output))
    rewards = [e["rewards/action_match/mean"] for e in trainer.state.log_history if "rewards/action_match/mean" in e]
    print(f"{len(rewards)} GRPO steps on {len(dataset)} decision points; 1{{g(a)=g(a*)}} per step: "
          + " ".join(f"{r:.2f}" for r in rewards))  # fmt: skip
    print(f"saved to {args.output}")


if __name__ == "__main__":
    main()
