"""Multi-turn GRPO on TRL's GRPOTrainer: TextActionEnv episodes as rollouts, the env's tokens masked out."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

import gymnasium as gym  # noqa: E402

from actionspaces.integrations.trl_rollout import (  # noqa: E402
    episode_prompts,
    episode_return_reward,
    parse_episode_prompt,
    text_env_rollout_func,
    trainer_generate,
)
from tiny_lm import CORPUS, tiny_model, tiny_tokenizer  # noqa: E402

TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
OBS = "task: mine_block:oak_log"  # what the tiny model reads of each observation (its first line)


def chat_tokenizer():
    tokenizer = tiny_tokenizer(extra_specials=("<|im_start|>", "<|im_end|>"), corpus=[*CORPUS, OBS] * 2)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = TEMPLATE
    return tokenizer


def make_env(spec):
    return gym.make("actionspaces/TextCraftWorld-v0", task=spec["task"], max_calls=3)


def test_episode_prompts_round_trip_and_bad_prompts_are_named():
    prompts = episode_prompts(["kill_entity:cow"], [7])
    assert parse_episode_prompt(prompts[0]) == {"task": "kill_entity:cow", "seed": 7}
    assert parse_episode_prompt([{"role": "user", "content": prompts[0]}])["seed"] == 7
    with pytest.raises(ValueError, match="names an episode"):
        parse_episode_prompt("mine some logs")
    with pytest.raises(ValueError, match="2 episode returns for 1"):
        episode_return_reward(["x"], episode_return=[1.0, 2.0])


def test_an_episode_chat_opens_with_the_system_message_it_is_given():
    from actionspaces.integrations._common import ChatTokens

    tokenizer = chat_tokenizer()
    chat = ChatTokens(tokenizer, OBS, system="")
    opened = tokenizer.decode(chat.prompt_ids)
    assert opened == f"<|im_start|>system\n<|im_end|>\n<|im_start|>user\n{OBS}<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.decode(ChatTokens(tokenizer, OBS).prompt_ids).startswith("<|im_start|>user")
    answer = tokenizer("Skill: chop<|im_end|>", add_special_tokens=False)["input_ids"]
    turn = tokenizer.decode(chat.env_turn(answer, "Skill: chop", OBS))  # later turns follow it unchanged
    assert turn.endswith(f"<|im_start|>user\n{OBS}<|im_end|>\n<|im_start|>assistant\n")
    with pytest.raises(TypeError, match="a system message"):
        text_env_rollout_func(make_env, system=0)  # type: ignore[arg-type]


def test_grpo_trainer_runs_stage_3_and_no_env_token_gets_a_gradient(tmp_path):
    from datasets import Dataset

    tokenizer = chat_tokenizer()
    model = tiny_model(tokenizer, max_positions=1024)
    checkpoint = tmp_path / "tiny"
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    rollout = text_env_rollout_func(make_env, token_penalty=0.01, observation=lambda obs: obs["text"].splitlines()[0])
    outputs = []

    def recorded(prompts, trainer):
        out = rollout(prompts, trainer)
        outputs.append(out)
        return out

    dataset = Dataset.from_dict({"prompt": episode_prompts(["mine_block:oak_log", "kill_entity:cow"], [0, 1])})
    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, max_steps=2, per_device_train_batch_size=4,
        num_generations=2, max_completion_length=10, learning_rate=1e-2, beta=0.0, logging_steps=1,
        report_to=[], save_strategy="no", seed=0,
    )  # fmt: skip
    trainer = trl.GRPOTrainer(
        model=str(checkpoint), reward_funcs=[episode_return_reward], args=args, train_dataset=dataset,
        processing_class=tokenizer, rollout_func=recorded,
    )  # fmt: skip

    # capture what the loss sees: its masks, and the gradient that reaches the final hidden state of each
    # position (TRL's fused LM head never builds the logits; the hidden state at p scores only token p + 1)
    seen = []
    original = trainer._compute_loss

    def compute_loss(model, inputs):
        hidden = []

        def keep(module, args, out):  # returns None: the output is left as it is
            out.retain_grad()
            hidden.append(out)

        hook = model.model.norm.register_forward_hook(keep)
        loss = original(model, inputs)
        hook.remove()
        seen.append((inputs, hidden))
        return loss

    trainer._compute_loss = compute_loss
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()

    # the rollouts: prompts of the first observation, completions alternating model and env tokens
    out = outputs[0]
    assert len(out["completion_ids"]) == 4  # 2 prompts, each arriving num_generations=2 times
    for prompt, completion, mask, calls, tokens in zip(
        out["prompt_ids"], out["completion_ids"], out["env_mask"], out["calls"], out["policy_tokens"], strict=True
    ):
        assert OBS in tokenizer.decode(prompt)
        assert len(mask) == len(completion) and sum(mask) == tokens and 1 <= calls <= 3
        env_text = tokenizer.decode([t for t, m in zip(completion, mask, strict=True) if m == 0])
        assert env_text.count(OBS) == calls - 1  # each later call's observation, written by the env
    assert all(r <= 1.0 for r in out["episode_return"])

    # what TRL's loss used: its mask is completion_mask * env_mask, and no env position gets a gradient
    checked = 0
    for inputs, hidden in seen:
        tool_mask, completion_mask = inputs["tool_mask"], inputs["completion_mask"]
        start, length = inputs["prompt_ids"].shape[1] - 1, completion_mask.shape[1]
        for states in hidden:
            if states.grad is None:
                continue
            grad = states.grad[:, start : start + length].abs().sum(-1)  # the rows that score completion tokens
            env = (tool_mask == 0) & (completion_mask == 1)
            assert env.any() and (grad[env] == 0).all()
            assert (grad[(tool_mask == 1) & (completion_mask == 1)] > 0).any()
            checked += 1
    assert checked >= 1
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert logs and all("rewards/episode_return_reward/mean" in entry for entry in logs)
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())


def test_the_spaces_special_tokens_reach_the_env_through_the_rollout():
    """Latent codes and grounding markers are special tokens: a decode that skips them would leave
    ``Latent:`` empty and the grounding point unmarked (issue 28, item 6)."""
    import numpy as np

    from actionspaces.canonical import BUTTONS
    from actionspaces.controllers import LatentCodebook
    from actionspaces.envs import CraftWorld, TextActionEnv
    from actionspaces.envs.craftworld import craftworld_controllers
    from actionspaces.training.tiny import build_tiny_policy

    latent = [f"<|latent_{i}|>" for i in range(8)]
    policy = build_tiny_policy(["task: mine oak log", "Latent: Grounding: Mine oak log"] * 10, extra_tokens=latent,
                               vocab_size=300, hidden_size=16, layers=1, heads=2)  # fmt: skip
    tokenizer = policy.tokenizer
    codebook = LatentCodebook(np.zeros((8, 4, len(BUTTONS) + 2)))
    answers = [
        "Latent: <|latent_3|><|latent_5|>",
        "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,300)<|point_end|>",
    ]
    seen: list[tuple[str, str | None]] = []

    class Recording(gym.Wrapper):
        def step(self, action):
            out = super().step(action)
            seen.append((action, out[-1]["space"]))
            return out

    def make(spec):
        env = TextActionEnv(CraftWorld(spec["task"]), codebook=codebook, max_calls=4,
                            controllers=craftworld_controllers(codebook=codebook))  # fmt: skip
        return Recording(env)

    def generate(trainer):
        def step(rows):
            turn = len(seen) // len(rows)
            ids = tokenizer(answers[turn % 2], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            return [ids for _ in rows], None

        return step

    class Trainer:
        processing_class = tokenizer

    rollout = text_env_rollout_func(make, max_turns=2, generate=generate)
    rollout(episode_prompts(["mine_block:oak_log"], [0]), Trainer())
    assert [text for text, _ in seen] == answers
    assert [space for _, space in seen] == ["latent", "grounding"]


def test_trainer_generate_calls_each_private_form_it_was_tested_against():
    calls = []

    class Trl116:  # GRPOTrainer._generate_single_turn as TRL 1.14 to 1.16 define it
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
            calls.append((prompt_ids, images, multimodal_fields, num_generations))
            return [[7, 8]], None

    class Trl110:  # TRL 1.10 to 1.13
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, has_tool_images=False):
            calls.append((prompt_ids, images, multimodal_fields))
            return [[9]], [[-0.5]]

    assert trainer_generate(Trl116())([[1, 2]]) == ([[7, 8]], None)
    assert trainer_generate(Trl110())([[3]]) == ([[9]], [[-0.5]])
    assert calls == [([[1, 2]], None, {}, 1), ([[3]], None, {})]

    class Trl024:  # TRL 0.24
        def _generate_single_turn(self, prompts, images):
            raise AssertionError("never called")

    with pytest.raises(TypeError, match="pass generate= to text_env_rollout_func"):
        trainer_generate(Trl024())
    with pytest.raises(TypeError, match="has no _generate_single_turn"):
        trainer_generate(object())
