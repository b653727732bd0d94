"""The SFT sets as a datasets.Dataset in TRL's conversational format, and SFTTrainer training on them."""

from __future__ import annotations

import pytest

from actionspaces.integrations.trl_data import sft_dataset, sft_rows


def test_rows_are_trl_prompt_completion_conversations_and_bad_examples_are_named():
    rows = sft_rows([("obs A", "Action: move(0, 0) and press(w)"), ("obs B", "Motion: jump", {"space": "motion"})])
    assert rows[0] == {
        "prompt": [{"role": "user", "content": "obs A"}],
        "completion": [{"role": "assistant", "content": "Action: move(0, 0) and press(w)"}],
    }
    assert rows[1]["space"] == "motion"
    opened = sft_rows([("obs A", "Motion: jump")], system="")[0]["prompt"]
    assert opened == [{"role": "system", "content": ""}, {"role": "user", "content": "obs A"}]
    with pytest.raises(TypeError, match="a system message"):
        sft_rows([("obs", "x")], system=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="example 0"):
        sft_rows([("only the observation",)])
    with pytest.raises(ValueError, match="strings"):
        sft_rows([("obs", 3)])
    with pytest.raises(ValueError, match="'prompt'"):
        sft_rows([("obs", "x", {"prompt": "clash"})])


def test_sft_trainer_trains_on_the_completions_only(tmp_path):
    pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    torch = pytest.importorskip("torch")
    from tiny_lm import CORPUS, tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer(extra_specials=("<|im_start|>", "<|im_end|>"), corpus=[*CORPUS, "task: craft"] * 2)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    model = tiny_model(tokenizer)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dataset = sft_dataset([("task: craft", "Action: move(0, 0) and press(e)", {"space": "raw"})] * 8)
    assert dataset.column_names == ["prompt", "completion", "space"]
    args = trl.SFTConfig(
        output_dir=str(tmp_path), use_cpu=True, max_steps=2, per_device_train_batch_size=4, learning_rate=1e-2,
        logging_steps=1, report_to=[], save_strategy="no",
    )  # fmt: skip
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    labels, ids = batch["labels"][0], batch["input_ids"][0]
    trained = labels != -100
    # the loss is on the answer (and its end of turn) only, never on the observation
    assert "press(e)" in tokenizer.decode(ids[trained]) and "task: craft" not in tokenizer.decode(ids[trained])
    trainer.train()
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    with pytest.raises(ValueError, match="no examples"):
        sft_dataset([])
