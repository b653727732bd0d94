"""A tiny policy built from a config: a Qwen2 (or Qwen2-VL) and a byte-level BPE tokenizer trained on your text.

For tests, smoke runs and machines where no checkpoint can be downloaded: the same transformers classes
and code paths as a real Qwen2 / Qwen2-VL checkpoint, at a few hundred thousand parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .policy import CHAT_TEMPLATE, SPECIAL_TOKENS, Policy

__all__ = ["TINY_IMAGE_PIXELS", "VISION_TOKENS", "build_tiny_policy", "tiny_image_processor"]

#: Qwen2-VL's vision tokens, which the tiny tokenizer gets when the policy sees frames.
VISION_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>"]
#: The tiny Qwen2-VL's processor: at most 32 image tokens per frame.
TINY_IMAGE_PIXELS = 28 * 28 * 32


def build_tiny_policy(
    corpus: Sequence[str],
    *,
    extra_tokens: Sequence[str] = (),
    vocab_size: int = 1024,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
    vision: bool = False,
    device: torch.device | str = "cpu",
) -> Policy:
    """A Qwen2-architecture LM from a config and a byte-level BPE tokenizer trained on ``corpus``.

    Special tokens (:data:`~actionspaces.training.policy.SPECIAL_TOKENS`, then ``extra_tokens`` such as
    ``<|latent_N|>``) are single tokens and digits are split one by one, as in Qwen2's own tokenizer; the
    chat template is Qwen2-VL's layout. With ``vision`` the model is a Qwen2-VL (the same language model
    plus a one-block vision tower) with Qwen2-VL's image processor. ``seed`` seeds the weights.

    Raises:
        ValueError: a size is below 1, or ``hidden_size`` is not a multiple of ``heads``.
    """
    if min(vocab_size, hidden_size, layers, heads) < 1 or hidden_size % heads:
        raise ValueError(f"need sizes >= 1 and hidden_size a multiple of heads, got {hidden_size} and {heads}")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + (VISION_TOKENS if vision else []) + list(extra_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call, unused-ignore]
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    text = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=4 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    device = torch.device(device)
    if not vision:
        model: Any = Qwen2ForCausalLM(Qwen2Config(**text, tie_word_embeddings=True))
        return Policy(model.to(device), tokenizer, device)
    return Policy(_tiny_qwen2_vl(text, heads, tokenizer).to(device), tokenizer, device, images=tiny_image_processor())


def _tiny_qwen2_vl(text: dict[str, Any], heads: int, tokenizer: Any) -> Any:
    """A Qwen2-VL whose language model is ``text`` (a Qwen2 config) and whose vision tower has one block."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    half = text["hidden_size"] // heads // 2  # M-RoPE splits each head's rotary half into (time, height, width)
    temporal = half // 4  # Qwen2-VL's split is 1/4, 3/8, 3/8 (16, 24, 24 of 64)
    height = (half - temporal) // 2
    sections = [temporal, height, half - temporal - height]
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": sections}
    config = Qwen2VLConfig(
        text_config={**text, "rope_parameters": rope},
        vision_config=dict(depth=1, embed_dim=text["hidden_size"], hidden_size=text["hidden_size"],
                           num_heads=heads, mlp_ratio=2),
        image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
        vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"),
        tie_word_embeddings=True,
    )  # fmt: skip
    return Qwen2VLForConditionalGeneration(config)


def tiny_image_processor() -> Any:
    """Qwen2-VL's image processor (its PIL implementation, the same on every machine), at most 32 tokens a frame."""
    from transformers import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=TINY_IMAGE_PIXELS)
