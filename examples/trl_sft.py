"""CrossHA's stage 1 (mixed-space SFT on D_mix) with TRL's ``SFTTrainer`` instead of the reference trainer's loop.

D_mix (the expert's decisions, each answered in a space drawn among those that can express it) is
exported by the library's ``sft_dataset`` in TRL's prompt-completion conversational format, so the loss
is on the answers only, through the tokenizer's chat template.

    python examples/trl_sft.py --steps 100 --output runs/trl_sft      # then --model runs/trl_sft elsewhere
    python examples/trl_sft.py --steps 2                                # a smoke test on the tiny Qwen2
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
from pathlib import Path

import torch
import trl

from actionspaces.chat import recorded_system_prompt
from actionspaces.integrations.trl_data import sft_dataset
from trl_setup import quick_setup, saved_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a causal-LM checkpoint path")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--output", type=Path, default=Path("runs/trl_sft"))
    args = parser.parse_args()
    cfg, codebook, d_mix, policy = quick_setup(args.model)
    examples = ((c.prompt, c.labels[space], {"space": space, "task": c.task}) for c, space in d_mix)
    dataset = sft_dataset(examples, system=recorded_system_prompt(policy))  # prompted as the checkpoint was trained
    with saved_policy(policy) as tmp:
        config = trl.SFTConfig(
            output_dir=str(args.output),
            use_cpu=not torch.cuda.is_available(),
            max_steps=args.steps,
            per_device_train_batch_size=cfg.sft_batch,
            learning_rate=cfg.sft_lr,
            lr_scheduler_type="cosine",  # the paper's schedule
            logging_steps=1,
            report_to=[],
            save_strategy="no",
            seed=cfg.seed,
        )
        trainer = trl.SFTTrainer(model=tmp, args=config, train_dataset=dataset, processing_class=policy.tokenizer)
        trainer.train()
    trainer.save_model(str(args.output))
    codebook.save(args.output / "codebook.json")  # the latent codes the model learnt to write
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    print(f"{len(losses)} SFT steps on {len(dataset)} D_mix decisions; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    print(f"saved to {args.output}")


if __name__ == "__main__":
    main()
