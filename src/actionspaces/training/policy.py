"""A policy: any Hugging Face causal LM or Qwen2-VL and its tokenizer, answering observations with responses.

What a trainer of action-space agents needs of its model, in one place (the reference trainer and the TRL
examples use it; the ``train`` extra):

* :class:`Policy` formats an observation with the checkpoint's chat template (with the frame as an image
  part for a Qwen2-VL), samples responses in batches with the KV cache (optionally under a grammar
  constraint), and scores responses token by token (:meth:`Policy.response_logprobs`), under the
  distribution they were sampled from: a vision-language model's image placeholders are never written,
  and a grammar's masks renormalise.
* :func:`load_policy` loads a checkpoint from a path, adding the special tokens the action spaces write
  (grounding markers, latent codes) as single tokens; :func:`check_checkpoint` names what makes one unusable.

Examples:
    >>> from actionspaces.training.tiny import build_tiny_policy
    >>> policy = build_tiny_policy(["Action: move(0, 0) and press(w)"] * 20, hidden_size=16, layers=1, heads=2)
    >>> prompt = policy.prompt("task: mine_block:oak_log")
    >>> prompt.text.startswith("<|im_start|>user")
    True
    >>> [len(r) <= 8 for r in sample(policy, [prompt] * 2, temperature=1.0, max_new_tokens=8)]
    [True, True]
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch

from ..chat import SYSTEM_PROMPT_ATTRIBUTE, checked_system_prompt, opening_messages, recorded_system_prompt
from ..decoding.masks import masked_token_logprobs
from ..grpo.logprobs import token_logprobs

__all__ = [
    "CHAT_TEMPLATE",
    "MARKER_TOKENS",
    "SPECIAL_TOKENS",
    "VISION_MODELS",
    "Encoded",
    "FrozenPrefix",
    "Policy",
    "Prompt",
    "check_checkpoint",
    "init_token_embeddings",
    "load_policy",
    "optimizer_groups",
    "response_logprobs",
    "sample",
    "set_system_prompt",
    "spelled_out",
    "train_top_layers",
]

#: The grounding space's markers: added to a vocabulary that lacks them, like the latent codes.
MARKER_TOKENS = ["<|object_ref_start|>", "<|object_ref_end|>", "<|point_start|>", "<|point_end|>", "<|box_start|>",
                 "<|box_end|>"]  # fmt: skip
#: The special tokens the action spaces write as single tokens (Qwen2's own names).
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *MARKER_TOKENS]
CHAT_TEMPLATE = (  # Qwen2-VL's layout: an image part is <|vision_start|><|image_pad|><|vision_end|>
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.content is string %}{{ m.content }}{% else %}{% for part in m.content %}"
    "{% if part.type == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ part.text }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
#: Model types whose frames are fed the Qwen2-VL way: patches, ``image_grid_thw``, ``<|image_pad|>``.
VISION_MODELS = ("qwen2_vl",)


@dataclass(frozen=True, eq=False)
class Prompt:
    """One model call's input: the chat-formatted text and, for a vision-language policy, the frame it shows."""

    text: str
    frame: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Encoded:
    """A prompt as the model takes it: token ids (image placeholder expanded) and the frame's patches."""

    ids: list[int]
    pixel_values: torch.Tensor | None = None  # (patches, 3 * temporal_patch * patch * patch)
    image_grid_thw: torch.Tensor | None = None  # (1, 3): the frame's patch grid


@dataclass
class Policy:
    """A causal LM (or Qwen2-VL) and its tokenizer, on ``device``; with ``images``, it also sees frames.

    Use :func:`load_policy` for a checkpoint, :func:`~actionspaces.training.tiny.build_tiny_policy` for a
    tiny one built from a config; :func:`sample` and :func:`response_logprobs` generate and score.
    """

    model: Any  # a transformers PreTrainedModel
    tokenizer: Any  # a transformers PreTrainedTokenizer(Fast)
    device: torch.device
    constraint: Any = None  # an actionspaces.decoding.GrammarConstraint: sample under its grammar
    images: Any = None  # a vision-language policy's image processor (Qwen2-VL): it sees frames

    def prompt(self, observation: str, frame: np.ndarray | None = None) -> Prompt:
        """The chat-formatted prompt for one observation (the checkpoint's own chat template).

        The system message is the one :func:`set_system_prompt` chose, or else the template's own default
        (SmolLM2's names the model: 21 tokens of every prompt). A vision-language policy (one with an image
        processor) takes the frame too, as an image part before the text.

        Raises:
            ValueError: a frame is missing for a vision-language policy, or given to a text-only one.
        """
        if (frame is None) != (self.images is None):
            raise ValueError(
                "a vision-language policy needs the frame of every observation"
                if frame is None
                else "a frame was given to a text-only policy (no image processor)"
            )
        content: Any = observation if frame is None else [{"type": "image"}, {"type": "text", "text": observation}]
        messages = opening_messages(content, recorded_system_prompt(self.model))
        return Prompt(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), frame)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, no special tokens added."""
        ids: list[list[int]] = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return ids

    def encode_prompts(self, prompts: Sequence[Prompt]) -> list[Encoded]:
        """Token ids of each prompt and, for a vision-language policy, its frame patchified by the image processor.

        The image placeholder becomes one token per merged patch, as Qwen2-VL's processor writes it.
        """
        if self.images is None:
            return [Encoded(ids) for ids in self.encode([p.text for p in prompts])]
        placeholder = self.tokenizer.convert_ids_to_tokens(self.model.config.image_token_id)
        for p in prompts:
            if p.text.count(placeholder) != 1:
                raise ValueError(f"a vision prompt holds one {placeholder}, got {p.text.count(placeholder)}")
        vision = self.images(images=[p.frame for p in prompts], return_tensors="pt")
        grids = vision["image_grid_thw"]
        patches = vision["pixel_values"].split(grids.prod(-1).tolist())
        merged = (grids.prod(-1) // self.images.merge_size**2).tolist()
        texts = [p.text.replace(placeholder, placeholder * n) for p, n in zip(prompts, merged, strict=True)]
        return [Encoded(ids, x, grid[None]) for ids, x, grid in zip(self.encode(texts), patches, grids, strict=True)]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a response's ids, without its EOS (special tokens kept: they are the spaces' markers)."""
        text: str = self.tokenizer.decode(
            [i for i in ids if i != self.tokenizer.eos_token_id], skip_special_tokens=False
        )
        return text

    @property
    def unwritable(self) -> list[int]:
        """Token ids a response never holds: a vision-language model's image placeholders.

        It would read them as frames. Sampling suppresses them and scoring masks them the same way.
        """
        config, vocab = self.model.config, self.model.config.get_text_config().vocab_size
        keys = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")
        return sorted({i for k in keys if isinstance(i := getattr(config, k, None), int) and 0 <= i < vocab})

    def save(self, directory: str | Path) -> None:
        """Write the model, the tokenizer and (a vision policy's) image processor: what :func:`load_policy` reads."""
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        if self.images is not None:
            self.images.save_pretrained(directory)

    def copy(self) -> Policy:
        """The same policy with its own copy of the trainable weights (for a stage that trains from a frozen parent).

        Frozen parameters (``requires_grad=False``, e.g. all but the top layers after
        :func:`train_top_layers`) are shared, not copied: a stage's policy and its KL reference hold one
        frozen base between them. Unfreezing a shared parameter afterwards unfreezes it in every copy.
        """
        frozen = {id(p): p for p in self.model.parameters() if not p.requires_grad}
        twin = replace(self, model=copy.deepcopy(self.model, memo=frozen))
        _mask_output_rows(twin)  # a parameter's copy loses its gradient hook
        return twin

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters a step updates: those with ``requires_grad`` (frozen ones get no state, no clipping)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    # -------------------------------------------------- the rest of TrainablePolicy (actionspaces.training.protocol)
    @property
    def eos_token_id(self) -> int:
        """The tokenizer's end-of-sequence token (a response's last)."""
        return int(self.tokenizer.eos_token_id)

    def train(self, mode: bool = True) -> None:
        """The model in training mode, or with ``mode=False`` in evaluation mode."""
        self.model.train(mode)

    def with_constraint(self, constraint: Any) -> Policy:
        """The same policy (the same model object) sampling and scoring under ``constraint``."""
        return replace(self, constraint=constraint)

    def sample(
        self, prompts: Sequence[Prompt], temperature: float, *, max_new_tokens: int, batch_size: int = 128
    ) -> list[list[int]]:
        """:func:`sample` with this policy."""
        return sample(self, prompts, temperature, max_new_tokens=max_new_tokens, batch_size=batch_size)

    def response_logprobs(
        self,
        prompts: Sequence[Encoded],
        responses: Sequence[list[int]],
        response_masks: torch.Tensor | None = None,
        frozen: FrozenPrefix | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`response_logprobs` with this policy."""
        return response_logprobs(self, prompts, responses, response_masks, frozen)


#: The config attribute that records :func:`train_top_layers`, so that a reloaded checkpoint trains the same way.
TOP_LAYERS_ATTRIBUTE = "actionspaces_train_top_layers"


def set_system_prompt(policy: Policy, system: str | None) -> Policy:
    """Prompt ``policy`` with the system message ``system`` (``None``: the chat template's own default).

    ``""`` writes an empty system message, which keeps a template from inserting its default: SmolLM2's
    default line is 21 of a CraftWorld prompt's ~115 tokens, and on a CPU a prompt's prefill is most of a
    call's cost. Recorded in the model's config like :func:`train_top_layers`, so :func:`load_policy` and
    :meth:`Policy.copy` keep it, and :func:`actionspaces.chat.recorded_system_prompt` reads it back for
    another engine's prompts (the TRL and verl integrations take it as ``system``).

    Examples:
        >>> from actionspaces.training.tiny import build_tiny_policy
        >>> policy = set_system_prompt(build_tiny_policy(["task: mine"] * 20, hidden_size=16, layers=1, heads=2), "")
        >>> policy.prompt("task: mine").text.splitlines()[:2]
        ['<|im_start|>system', '<|im_end|>']

    Raises:
        TypeError: ``system`` is neither a string nor ``None``.
    """
    setattr(policy.model.config, SYSTEM_PROMPT_ATTRIBUTE, checked_system_prompt(system))
    return policy


#: The config attribute that records the tokens whose output rows :func:`train_top_layers` trains.
TRAINED_ROWS_ATTRIBUTE = "actionspaces_trained_output_rows"


def train_top_layers(policy: Policy, layers: int | None, *, output_rows: Sequence[str] = ()) -> Policy:
    """Train only the top ``layers`` decoder layers and the final norm; freeze the rest (``None``: train all).

    On two CPU cores this is the fine-tuning that fits a 135M model: the frozen layers' forward pass needs
    no autograd graph and their gradients are never computed (docs/training.md has the measurement against
    LoRA). The input embeddings stay frozen, new tokens included: they start at their spelled-out meaning
    (:func:`init_token_embeddings`).

    ``output_rows`` names tokens whose rows of the output head train too, every other row staying as it
    was: the tokens a model must learn to choose between, such as the latent codes ``<|latent_N|>``. Their
    spelled-out embeddings differ by a digit, and with a frozen head the model learns that a code follows
    but not which one (docs/training.md). A head tied to the input embeddings (SmolLM2's) is untied
    first, so the input side and :class:`FrozenPrefix` stay as they were.

    The choice is recorded in the model's config, so :func:`load_policy` applies it again to a saved
    checkpoint, and :meth:`Policy.copy` shares the frozen weights.

    Examples:
        >>> from actionspaces.training.tiny import build_tiny_policy
        >>> policy = build_tiny_policy(["task: mine"] * 20, hidden_size=16, layers=3, heads=2)
        >>> trained = train_top_layers(policy, 1).trainable_parameters()
        >>> sum(p.numel() for p in trained) < sum(p.numel() for p in policy.model.parameters())
        True

    Raises:
        ValueError: ``layers`` is not between 1 and the model's number of decoder layers, or the model has
            no ``get_decoder().layers``; ``output_rows`` names a token the tokenizer lacks, is given for a
            model without an output head, or with ``layers=None`` (every row trains then).
    """
    model = policy.model
    if layers is None:
        if output_rows:
            raise ValueError("output_rows needs a layer count: with layers=None every weight trains already")
        model.requires_grad_(True)
        setattr(model.config, TOP_LAYERS_ATTRIBUTE, None)
        setattr(model.config, TRAINED_ROWS_ATTRIBUTE, None)
        _mask_output_rows(policy)  # every row trains: no mask left from an earlier choice
        return policy
    decoder = model.get_decoder()
    stack = getattr(decoder, "layers", None)
    if not isinstance(stack, torch.nn.ModuleList):
        raise ValueError(f"{type(model).__name__} has no decoder layer list (get_decoder().layers) to train the top of")
    if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= len(stack):
        raise ValueError(f"layers must be an integer from 1 to {len(stack)} (the decoder's layers), got {layers!r}")
    vocab = policy.tokenizer.get_vocab()
    if unknown := [t for t in output_rows if t not in vocab]:
        raise ValueError(f"output_rows: {unknown[:3]} not in the tokenizer (add them first: load_policy)")
    if output_rows and model.get_output_embeddings() is None:
        raise ValueError(f"output_rows: {type(model).__name__} has no output head (get_output_embeddings)")
    model.requires_grad_(False)
    for module in [*stack[len(stack) - layers :], getattr(decoder, "norm", None)]:
        if module is not None:
            module.requires_grad_(True)
    setattr(model.config, TOP_LAYERS_ATTRIBUTE, layers)
    setattr(model.config, TRAINED_ROWS_ATTRIBUTE, list(output_rows) or None)
    if output_rows:
        _untie_output(model)
    _mask_output_rows(policy)
    return policy


def _untie_output(model: Any) -> None:
    """Give the output head its own weight (a copy of the input embeddings it was tied to), recorded in the config."""
    head = model.get_output_embeddings()
    if head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr():
        head.weight = torch.nn.Parameter(head.weight.detach().clone())
    model.config.tie_word_embeddings = False
    if hasattr(model.config, "get_text_config"):
        model.config.get_text_config().tie_word_embeddings = False


def _mask_output_rows(policy: Policy) -> None:
    """Let only the recorded rows of the output head train: their gradient kept, every other row's zeroed.

    Replaces the mask set before, if any (none is left when no rows are recorded). The head's weight is
    marked (``rows_only``) so that :func:`optimizer_groups` exempts it from weight decay, which would
    otherwise shrink the rows that get no gradient.
    """
    head = policy.model.get_output_embeddings()
    if head is None:
        return
    weight = head.weight
    if (previous := getattr(weight, "row_mask_hook", None)) is not None:
        previous.remove()
    tokens = getattr(policy.model.config, TRAINED_ROWS_ATTRIBUTE, None)
    hook = None
    if tokens:
        keep = torch.zeros(weight.shape[0], 1, dtype=weight.dtype, device=weight.device)
        keep[policy.tokenizer.convert_tokens_to_ids(list(tokens))] = 1
        weight.requires_grad_(True)
        hook = weight.register_hook(lambda grad: grad * keep)
    # a Parameter declares neither attribute; a copy of it has neither (Policy.copy sets them again)
    setattr(weight, "row_mask_hook", hook)  # noqa: B010
    setattr(weight, "rows_only", hook is not None)  # noqa: B010


def optimizer_groups(parameters: Sequence[torch.nn.Parameter], weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's parameter groups: ``weight_decay`` for each parameter, none for one that trains some rows only.

    A head that trains a few rows (:func:`train_top_layers` with ``output_rows``) must not decay the rest.

    Examples:
        >>> optimizer_groups([torch.nn.Parameter(torch.zeros(2))], 0.01)[0]["weight_decay"]
        0.01
    """
    rows_only = [p for p in parameters if getattr(p, "rows_only", False)]
    groups: list[dict[str, Any]] = [
        {"params": [p for p in parameters if not getattr(p, "rows_only", False)], "weight_decay": weight_decay}
    ]
    if rows_only:  # a separate group only when needed, so an older run's optimizer state still loads
        groups.append({"params": rows_only, "weight_decay": 0.0})
    return groups


def check_checkpoint(path: Path, vision: bool) -> Any:
    """The config of the checkpoint at ``path``; an error naming what is missing if it cannot be used.

    Raises:
        FileNotFoundError: no ``config.json`` there, or (``vision``) no image processor.
        ValueError: ``vision`` asks for frames and the checkpoint is not a Qwen2-VL.
    """
    from transformers import AutoConfig

    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a Hugging Face checkpoint (no config.json)")
    config = AutoConfig.from_pretrained(path)
    if vision and config.model_type not in VISION_MODELS:
        raise ValueError(f"vision (frames) needs a Qwen2-VL checkpoint (model_type {', '.join(VISION_MODELS)}); "
                         f"{path} holds a {config.model_type!r} model")  # fmt: skip
    if vision and not (path / "preprocessor_config.json").is_file():
        raise FileNotFoundError(f"vision (frames): {path} has no image processor (preprocessor_config.json)")
    return config


def spelled_out(token: str) -> str:
    """The words a special token stands for, which a pretrained vocabulary already knows.

    Examples:
        >>> spelled_out("<|object_ref_start|>"), spelled_out("<|latent_407|>")
        ('object ref start', 'latent 407')
    """
    return " ".join(re.sub(r"[<>|_]+", " ", token).split())


def init_token_embeddings(policy: Policy, tokens: Sequence[str]) -> None:
    """Set each new token's embedding (input and, if untied, output) to the mean of its spelled-out pieces.

    A token added to a pretrained vocabulary starts where the model already reads its meaning
    (``<|point_start|>`` near "point start") instead of at a random point: see docs/training.md for the
    measurement that this learns faster than transformers' default draw.

    Raises:
        ValueError: a token is not in the tokenizer, or spells out to nothing.
    """
    tokenizer, model = policy.tokenizer, policy.model
    vocab = tokenizer.get_vocab()
    tables = [model.get_input_embeddings().weight]
    output = model.get_output_embeddings()
    if output is not None and output.weight.data_ptr() != tables[0].data_ptr():
        tables.append(output.weight)
    with torch.no_grad():
        for token in tokens:
            if token not in vocab:
                raise ValueError(f"{token!r} is not in the tokenizer: add it before initialising its embedding")
            pieces = [
                i for i in tokenizer(spelled_out(token), add_special_tokens=False)["input_ids"] if i != vocab[token]
            ]
            if not pieces:
                raise ValueError(f"{token!r} spells out to no token of the vocabulary")
            for table in tables:
                table[vocab[token]] = table[pieces].mean(0)


def load_policy(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    extra_tokens: Sequence[str] = (),
    vision: bool = False,
    new_tokens: Literal["spelled", "random"] = "spelled",
) -> Policy:
    """Any Hugging Face causal LM or Qwen2-VL saved at ``path`` (a trainer's checkpoint, or a stock one).

    Missing special tokens (:data:`SPECIAL_TOKENS`, the grounding markers, and ``extra_tokens``, e.g. the
    latent codes ``<|latent_N|>``) are added as single tokens and the embeddings resized, so a stock
    checkpoint can write every space. Their embeddings start at the mean of their spelled-out pieces
    (:func:`init_token_embeddings`; ``new_tokens="random"`` keeps transformers' draw instead). A checkpoint
    saved after :func:`train_top_layers` comes back with the same layers frozen. With
    ``vision`` the checkpoint must be a Qwen2-VL with its image processor (``preprocessor_config.json``).

    Raises:
        FileNotFoundError, ValueError: see :func:`check_checkpoint`; ``new_tokens`` is neither choice.
    """
    if new_tokens not in ("spelled", "random"):
        raise ValueError(f"new_tokens must be 'spelled' or 'random', got {new_tokens!r}")
    from transformers import (
        AutoImageProcessor,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        AutoTokenizer,
    )

    path = Path(path)
    config = check_checkpoint(path, vision)
    images = AutoImageProcessor.from_pretrained(path) if vision else None  # type: ignore[no-untyped-call, unused-ignore]
    tokenizer = AutoTokenizer.from_pretrained(path)
    loader = AutoModelForImageTextToText if hasattr(config, "vision_config") else AutoModelForCausalLM
    model: Any = loader.from_pretrained(path)
    missing = [t for t in [*SPECIAL_TOKENS, *extra_tokens] if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
        model.resize_token_embeddings(len(tokenizer))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        tokenizer.chat_template = CHAT_TEMPLATE
    device = torch.device(device)
    policy = Policy(model, tokenizer, device, images=images)
    if missing and new_tokens == "spelled":
        init_token_embeddings(policy, missing)
    if (top := getattr(config, TOP_LAYERS_ATTRIBUTE, None)) is not None:  # a checkpoint trained that way trains on so
        train_top_layers(policy, top, output_rows=getattr(config, TRAINED_ROWS_ATTRIBUTE, None) or ())
    policy.model.to(device)
    return policy


def _model_inputs(
    policy: Policy, rows: Sequence[Sequence[int]], prompts: Sequence[Encoded], left: bool
) -> dict[str, torch.Tensor]:
    """``rows`` (each a prompt's ids, maybe followed by a response) padded into one batch, with the prompts' frames.

    Vision inputs follow Qwen2-VL: every frame's patches concatenated, their grids, and ``mm_token_type_ids``
    marking the image tokens (from which the model computes its 3-D rotary positions).
    """
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), policy.tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros(len(rows), width, dtype=torch.long)
    for i, row in enumerate(rows):
        span = slice(width - len(row), width) if left else slice(0, len(row))
        ids[i, span] = torch.tensor(row, dtype=torch.long)
        attention[i, span] = 1
    inputs = {"input_ids": ids, "attention_mask": attention}
    if prompts[0].pixel_values is not None:
        inputs["pixel_values"] = torch.cat([cast(torch.Tensor, p.pixel_values) for p in prompts])
        inputs["image_grid_thw"] = torch.cat([cast(torch.Tensor, p.image_grid_thw) for p in prompts])
        inputs["mm_token_type_ids"] = ((ids == policy.model.config.image_token_id) & attention.bool()).int()
    return {k: v.to(policy.device) for k, v in inputs.items()}


@torch.no_grad()
def sample(
    policy: Policy, prompts: Sequence[Prompt], temperature: float, *, max_new_tokens: int, batch_size: int = 128
) -> list[list[int]]:
    """One response per prompt (its token ids, EOS included), generated in batches of ``batch_size`` with the KV cache.

    ``temperature=0`` is greedy; otherwise plain sampling (no top-k, no top-p). A policy with a grammar
    ``constraint`` samples under it; a vision-language model never writes its image placeholders.

    Raises:
        ValueError: ``temperature`` is negative, or ``max_new_tokens`` or ``batch_size`` below 1.
    """
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if max_new_tokens < 1 or batch_size < 1:
        raise ValueError(f"max_new_tokens and batch_size must be >= 1, got {max_new_tokens} and {batch_size}")
    tokenizer, model = policy.tokenizer, policy.model
    model.eval()
    options: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
        if temperature > 0
        else {"do_sample": False}
    )
    out: list[list[int]] = []
    for start in range(0, len(prompts), batch_size):
        encoded = policy.encode_prompts(prompts[start : start + batch_size])
        batch = _model_inputs(policy, [e.ids for e in encoded], encoded, left=True)
        if policy.constraint is not None:
            options["logits_processor"] = [policy.constraint.logits_processor()]
        if policy.unwritable:
            options["suppress_tokens"] = policy.unwritable
        generated = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            **options,
        )
        for row in generated[:, batch["input_ids"].shape[1] :].tolist():
            end = row.index(tokenizer.eos_token_id) + 1 if tokenizer.eos_token_id in row else len(row)
            out.append(row[:end])
    return out


def response_logprobs(
    policy: Policy,
    prompts: Sequence[Encoded],
    responses: Sequence[list[int]],
    response_masks: torch.Tensor | None = None,
    frozen: FrozenPrefix | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of each response given its prompt under ``policy``, ``(B, T)``, and the response mask.

    Responses are scored under the distribution they were sampled from: without the unwritable tokens and,
    with ``response_masks`` (the grammar's packed masks before each response token,
    ``GrammarConstraint.replay_masks``), masked by the grammar and renormalised. Log-probs outside the
    response mask are 0 (a prompt's image tokens are unwritable, so their own log-probs are -inf). With
    ``frozen`` (a policy trained on its top layers only), the frozen bottom runs once per row and only the
    top layers run here: the same log-probs, for a fraction of the work when rows are scored again.
    """
    device = policy.device
    rows = [p.ids + r for p, r in zip(prompts, responses, strict=True)]
    inputs = _model_inputs(policy, rows, prompts, left=False)
    width = inputs["input_ids"].shape[1]
    mask = torch.zeros(len(rows), width - 1, device=device)
    for i, (p, row) in enumerate(zip(prompts, rows, strict=True)):
        mask[i, len(p.ids) - 1 : len(row) - 1] = 1  # position t predicts token t + 1
    # The vocabulary logits only where a response token is predicted: (1, N, V) at the N response positions,
    # not at the prompts' (for a 49k vocabulary, most of the pass) nor at the padding.
    at = cast(tuple[torch.Tensor, torch.Tensor], mask.nonzero(as_tuple=True))
    if frozen is not None and frozen.serves(policy, inputs):
        states = frozen.states(policy, rows, inputs["attention_mask"])
        with frozen.top_only(policy.model), _head_at(policy.model, at):
            logits = policy.model(inputs_embeds=states, attention_mask=inputs["attention_mask"]).logits
    else:
        with _head_at(policy.model, at):
            logits = policy.model(**inputs).logits
    if policy.unwritable:
        logits = logits.index_fill(-1, torch.tensor(policy.unwritable, device=device), -math.inf)
    targets = inputs["input_ids"][at[0], at[1] + 1].unsqueeze(0)
    if response_masks is None:
        span = token_logprobs(logits, targets)
    else:
        # ``at`` runs row by row through each response in order: each row's masks, one after the other
        bitmask = torch.cat([response_masks[i, : len(r)] for i, r in enumerate(responses)])
        span = masked_token_logprobs(logits, targets, bitmask.unsqueeze(0))
    logp = torch.zeros(len(rows), width - 1, dtype=span.dtype, device=span.device)
    return logp.index_put(at, span[0]), mask


@contextlib.contextmanager
def _head_at(model: Any, at: tuple[torch.Tensor, torch.Tensor]) -> Iterator[None]:
    """Within the block, ``model``'s output head reads its input at positions ``at`` (rows, columns) only.

    Its logits are then ``(1, N, V)`` for the N positions, in ``at``'s order: the head's cost scales with
    the tokens scored, whatever the prompts' lengths and the padding.
    """
    head = model.get_output_embeddings()
    if head is None:
        raise TypeError(f"{type(model).__name__} has no output head: response log-probs need a causal LM")
    handle = head.register_forward_pre_hook(lambda _module, args: (args[0][at].unsqueeze(0), *args[1:]))
    try:
        yield
    finally:
        handle.remove()


class _CapturedError(Exception):
    """Raised by the hook that captures the states entering the first trained layer: the rest need not run."""


class FrozenPrefix:
    """The hidden states entering a policy's first trained decoder layer, computed once per token row.

    After :func:`train_top_layers`, everything below the top layers is frozen, so the states it hands the
    top layers depend on the row's tokens alone. SFT draws the same demonstrations again and again, and a
    GRPO update scores each rollout three times (old, new and reference log-probs): with a
    ``FrozenPrefix`` the bottom runs once per row and each later pass runs the top layers only. Rows are
    right-padded, so a row's states do not depend on its batch. The states are kept on the CPU as long as
    this object lives (one per SFT stage, one per update).

    It serves a policy only if that policy trains its top layers (the config records how many), sees no
    frames, and has the frozen bottom the states were first computed with (shared weights: a
    :meth:`Policy.copy` or the KL reference of the same stage); otherwise :func:`response_logprobs` runs
    the whole model.

    Examples:
        >>> from actionspaces.training.tiny import build_tiny_policy
        >>> policy = train_top_layers(build_tiny_policy(["task: mine"] * 20, hidden_size=16, layers=2, heads=2), 1)
        >>> prompts, responses = policy.encode_prompts([policy.prompt("task: mine")]), [policy.encode(["mine"])[0]]
        >>> plain, _ = response_logprobs(policy, prompts, responses)
        >>> cached, _ = response_logprobs(policy, prompts, responses, frozen=FrozenPrefix())
        >>> torch.allclose(plain, cached, atol=1e-5)
        True
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[int, ...], torch.Tensor] = {}
        self._bottom: tuple[int, ...] | None = None  # the storage of the frozen weights the states came from

    @staticmethod
    def _split(model: Any) -> tuple[Any, int] | None:
        """The model's decoder and how many of its layers are frozen below the trained top, if it is so trained."""
        top = getattr(model.config, TOP_LAYERS_ATTRIBUTE, None)
        if not isinstance(top, int):
            return None
        decoder = model.get_decoder()
        return decoder, len(decoder.layers) - top

    def serves(self, policy: Policy, inputs: dict[str, torch.Tensor]) -> bool:
        """Whether the cached path computes ``policy``'s log-probs for these inputs (see the class)."""
        split = self._split(policy.model)
        if split is None or "pixel_values" in inputs or split[1] == 0:
            return False
        decoder, bottom = split
        below = [*decoder.get_input_embeddings().parameters(), *decoder.layers[:bottom].parameters()]
        if any(p.requires_grad for p in below):
            return False
        weights = tuple(p.data_ptr() for p in below)
        if self._bottom is None:
            self._bottom = weights
        return weights == self._bottom

    @staticmethod
    @contextlib.contextmanager
    def top_only(model: Any) -> Iterator[None]:
        """Within the block, ``model``'s decoder holds only its trained layers (it then reads ``inputs_embeds``)."""
        decoder, bottom = cast(tuple[Any, int], FrozenPrefix._split(model))
        layers = decoder.layers
        decoder.layers = torch.nn.ModuleList(layers[bottom:])
        try:
            yield
        finally:
            decoder.layers = layers

    def states(self, policy: Policy, rows: Sequence[Sequence[int]], attention: torch.Tensor) -> torch.Tensor:
        """The states entering the first trained layer for each row, right-padded with zeros, ``(B, T, hidden)``."""
        missing = list(dict.fromkeys(tuple(r) for r in rows if tuple(r) not in self._rows))
        if missing:
            self._compute(policy, missing)
        width, first = attention.shape[1], self._rows[tuple(rows[0])]
        out = torch.zeros(len(rows), width, first.shape[-1], dtype=first.dtype)  # the model's own dtype (bf16 too)
        for i, row in enumerate(rows):
            out[i, : len(row)] = self._rows[tuple(row)]
        return out.to(policy.device)

    def _compute(self, policy: Policy, rows: list[tuple[int, ...]]) -> None:
        model = policy.model
        decoder, bottom = cast(tuple[Any, int], self._split(model))
        captured: list[torch.Tensor] = []

        def capture(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            captured.append(args[0] if args else kwargs["hidden_states"])
            raise _CapturedError

        empty = Encoded([])
        handle = decoder.layers[bottom].register_forward_pre_hook(capture, with_kwargs=True)
        training = model.training
        model.eval()
        try:
            for start in range(0, len(rows), 16):
                chunk = rows[start : start + 16]
                inputs = _model_inputs(policy, chunk, [empty] * len(chunk), left=False)
                with torch.no_grad(), contextlib.suppress(_CapturedError):
                    model(**inputs, use_cache=False)
                states = captured.pop().detach().cpu()
                for k, row in enumerate(chunk):
                    self._rows[row] = states[k, : len(row)].clone()
        finally:
            handle.remove()
            model.train(training)
