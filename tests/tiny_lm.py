"""A tiny Qwen2 causal LM and a byte-level BPE tokenizer trained here, for tests that need a real model."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CORPUS = [
    "Action: move(0, 0) and press(w)",
    "Action: move(12, -3) and press(a, space) and click(left)",
    "Motion: move forward",
    "Motion: turn left, move forward",
    "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,380)<|point_end|>",
    "Skill: chop the oak tree",
    "task: mine_block:oak_log. Next action?",
] * 20


def tiny_tokenizer(extra_specials=(), corpus=CORPUS):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|point_start|>", "<|point_end|>"]
    specials += [t for t in extra_specials if t not in specials]
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def tiny_model(tokenizer, seed=0, max_positions=256):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return Qwen2ForCausalLM(config)
