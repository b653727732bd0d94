"""TRL's real GRPOTrainer, a few steps on CPU, with a tiny model and our reward functions."""

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

from actionspaces.grpo import TokenCounter  # noqa: E402
from actionspaces.integrations.trl import (  # noqa: E402
    action_match_reward_func,
    format_reward_func,
    token_penalty_reward_func,
)
from tiny_lm import tiny_model, tiny_tokenizer  # noqa: E402


def test_grpo_trainer_runs_with_our_rewards(tmp_path):
    from datasets import Dataset

    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    checkpoint = tmp_path / "tiny"  # loaded from a path, as a real checkpoint (the reference model too)
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    calls = []
    match = action_match_reward_func()

    def action_match(**kwargs):
        calls.append(kwargs)
        return match(**kwargs)

    dataset = Dataset.from_dict(
        {
            "prompt": ["task: mine_block:oak_log. Next action?"] * 8,
            "solution": ["Motion: move forward", "Action: move(0, 0) and press(w)"] * 4,
        }
    )
    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        learning_rate=1e-2,
        beta=0.04,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        seed=0,
    )
    trainer = trl.GRPOTrainer(
        model=str(checkpoint),
        # the token penalty (in words, here) varies across a group, so the advantages are not all zero
        reward_funcs=[
            action_match,
            format_reward_func(penalty=0.1),
            token_penalty_reward_func(0.1, counter=TokenCounter(str.split)),
        ],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()

    assert len(calls) >= 2
    first = calls[0]
    assert len(first["completions"]) == 4 and set(first["solution"]) <= set(dataset["solution"])
    assert all(isinstance(c, str) for c in first["completions"])
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert logs, trainer.state.log_history
    for name in ("action_match", "action_format", "token_penalty"):
        assert all(f"rewards/{name}/mean" in entry for entry in logs), name
    assert any(entry["grad_norm"] > 0 for entry in logs)
    # an untrained model writes noise: the format reward is negative, and training moved the weights
    assert logs[0]["rewards/action_format/mean"] < 0
    trained = trainer.model.state_dict()
    assert any(not torch.equal(before[k], trained[k]) for k in before)


def test_rewards_given_the_tokenizer_read_the_special_tokens_trl_decodes_away():
    from actionspaces.training.tiny import build_tiny_policy

    tokenizer = build_tiny_policy(["Latent: Grounding: Mine oak log"] * 10, extra_tokens=["<|latent_3|>"],
                                  vocab_size=300, hidden_size=16, layers=1, heads=2).tokenizer  # fmt: skip
    answer = "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,300)<|point_end|>"
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
           for text in ("Latent: <|latent_3|>", answer)]  # fmt: skip
    as_trl_decodes = tokenizer.batch_decode(ids, skip_special_tokens=True)
    assert as_trl_decodes[0] == "Latent: "
    # the latent answer loses its code; the grounding one still parses without its markers
    assert format_reward_func()(completions=as_trl_decodes) == [-1.0, 0.0]
    fmt = format_reward_func(tokenizer=tokenizer)
    assert fmt(completions=as_trl_decodes, completion_ids=ids) == [0.0, 0.0]
    with pytest.raises(ValueError, match="completion_ids"):
        fmt(completions=as_trl_decodes)
