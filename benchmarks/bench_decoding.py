"""Cost of grammar-constrained decoding per generated token, next to unconstrained sampling, in one run.

Both arms sample from the same untrained tiny Qwen2 with the same batch; the constrained arm adds
:class:`actionspaces.decoding.ActionLogitsProcessor` (llguidance masks, unpacked and applied to the
logits). Time is divided by decode steps (one token per row per step), so the arms compare per token
even though constrained responses end earlier. The unconstrained arm ignores EOS and runs as many steps as
the longest constrained response. Reported per vocabulary size, since mask cost grows with the vocabulary.

    python benchmarks/bench_decoding.py [--batch 32] [--vocab 1000 32000] [--target chain] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import string
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from actionspaces import ChainSpace
from actionspaces.decoding import GrammarConstraint, generation_grammar, special_tokens


def build(vocab: int, target: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    chain = ChainSpace()
    actions = [s.render(s.sample(seed)) for s in chain.spaces.values() for seed in range(200)]
    rng = random.Random(0)
    # random words fill the vocabulary up to the size asked for, as a real tokenizer's would be
    words = [" ".join("".join(rng.choices(string.ascii_letters, k=rng.randint(3, 9))) for _ in range(50))
             for _ in range(vocab // 4)]  # fmt: skip
    specials = ["<|endoftext|>", "<|im_end|>", *special_tokens(generation_grammar(target))]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(actions + words, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )  # fmt: skip
    return tokenizer, Qwen2ForCausalLM(config).eval()


def generate(model, tokenizer, batch: int, steps: int, processor=None, seed: int = 0) -> tuple[float, int]:
    """Seconds and decode steps of one sampled batch."""
    torch.manual_seed(seed)
    prompt = tokenizer(["task: mine_block:oak_log. Next action?"] * batch, return_tensors="pt")
    kwargs = {"logits_processor": [processor]} if processor is not None else {"eos_token_id": None}
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            **prompt, do_sample=True, top_k=0, max_new_tokens=steps, pad_token_id=tokenizer.pad_token_id, **kwargs
        )
    return time.perf_counter() - start, out.shape[1] - prompt["input_ids"].shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--vocab", type=int, nargs="+", default=[1000, 32000])
    parser.add_argument("--target", default="chain", help="a space name or 'chain'")
    parser.add_argument("--max-new-tokens", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"batch {args.batch}, target {args.target}, median of {args.repeats}; ms per decode step (one token per row)")
    print("| vocab | unconstrained ms/step | constrained ms/step | overhead ms/step | µs per row·token | ratio |")
    print("|---|---|---|---|---|---|")
    for vocab in args.vocab:
        tokenizer, model = build(vocab, args.target)
        constraint = GrammarConstraint.for_space(tokenizer, args.target)
        free, masked = [], []
        for r in range(args.repeats):
            processor = constraint.logits_processor()
            seconds, steps = generate(model, tokenizer, args.batch, args.max_new_tokens, processor, r)
            masked.append(seconds / steps)
            seconds, free_steps = generate(model, tokenizer, args.batch, steps, None, r)
            free.append(seconds / free_steps)
        f, m = sorted(free)[len(free) // 2], sorted(masked)[len(masked) // 2]
        print(
            f"| {len(tokenizer):,} | {1e3 * f:.2f} | {1e3 * m:.2f} | {1e3 * (m - f):.2f} "
            f"| {1e6 * (m - f) / args.batch:.1f} | {m / f:.2f}× |"
        )


if __name__ == "__main__":
    main()
