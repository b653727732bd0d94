"""Multi-turn GRPO across two processes (``torchrun --nproc_per_node 2``): the ranks stay one model.

Issue 28, item 5. Each rank plays its share of the episodes with ``text_env_rollout_func``; after a step
both must hold the same weights, and those weights must have moved (a step that changes nothing would
pass the first check vacuously). On CPU the processes are started by ``torchrun``: ``accelerate launch
--cpu --num_processes 2`` starts one process (its CPU path is the simple launcher, multi-process only
through mpirun), which the ``processes`` check would catch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("trl")

TESTS = Path(__file__).resolve().parents[1]  # where tiny_lm.py is

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os, sys
    sys.path.insert(0, {tests!r})
    os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
    import gymnasium as gym, torch, trl
    from datasets import Dataset
    from actionspaces.integrations.trl_rollout import episode_prompts, episode_return_reward, text_env_rollout_func
    from tiny_lm import CORPUS, tiny_model, tiny_tokenizer

    out = {out!r}
    tokenizer = tiny_tokenizer(extra_specials=("<|im_start|>", "<|im_end|>"), corpus=[*CORPUS] * 2)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = (
        "{{% for m in messages %}}<|im_start|>{{{{ m.role }}}}\\n{{{{ m.content }}}}<|im_end|>\\n{{% endfor %}}"
        "{{% if add_generation_prompt %}}<|im_start|>assistant\\n{{% endif %}}"
    )
    checkpoint = os.path.join(out, "tiny")
    if int(os.environ.get("RANK", "0")) == 0:
        tiny_model(tokenizer, max_positions=1024).save_pretrained(checkpoint)
        tokenizer.save_pretrained(checkpoint)
    from accelerate import PartialState
    PartialState().wait_for_everyone()

    def digest(model):
        h = hashlib.sha256()
        for name, value in sorted(model.state_dict().items()):
            h.update(name.encode()); h.update(value.detach().cpu().numpy().tobytes())
        return h.hexdigest()

    make_env = lambda spec: gym.make("actionspaces/TextCraftWorld-v0", task=spec["task"], max_calls=2)
    rollout = text_env_rollout_func(make_env, token_penalty=0.05, max_turns=2,
                                    observation=lambda obs: obs["text"].splitlines()[0])
    args = trl.GRPOConfig(output_dir=os.path.join(out, "out"), use_cpu=True, max_steps=1,
                          per_device_train_batch_size=2, num_generations=4, max_completion_length=8,
                          learning_rate=1e-2, beta=0.0, logging_steps=1, report_to=[], save_strategy="no", seed=0)
    dataset = Dataset.from_dict({{"prompt": episode_prompts(["mine_block:oak_log", "kill_entity:cow"], [0, 1])}})
    trainer = trl.GRPOTrainer(model=checkpoint, reward_funcs=[episode_return_reward], args=args,
                              train_dataset=dataset, processing_class=tokenizer, rollout_func=rollout)
    before = digest(trainer.model)
    trainer.train()
    rank = trainer.accelerator.process_index
    with open(os.path.join(out, f"rank{{rank}}.json"), "w") as f:
        json.dump({{"before": before, "after": digest(trainer.model),
                   "processes": trainer.accelerator.num_processes}}, f)
    trainer.accelerator.wait_for_everyone()
    torch.distributed.destroy_process_group()  # left to exit, gloo's threads can abort the process
    """
)


@pytest.mark.slow
def test_two_processes_take_one_grpo_step_and_hold_the_same_weights(tmp_path):
    launcher = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert launcher is not None, "torchrun is installed with torch"
    script = tmp_path / "step.py"
    script.write_text(SCRIPT.format(tests=str(TESTS), out=str(tmp_path)))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [launcher, "--nproc_per_node", "2", str(script)], env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["processes"] for r in ranks] == [2, 2]
    assert ranks[0]["before"] == ranks[1]["before"]  # one starting model
    assert ranks[0]["after"] != ranks[0]["before"]  # the step moved it
    assert ranks[0]["after"] == ranks[1]["after"]  # and moved both ranks alike
