"""The data CrossHA's recipe trains on, built from CraftWorld's expert episodes.

The expert plays every training task; each of its steps is labelled in every space (:func:`label_step`).
From those episodes come the latent codebook (:func:`fit_codebook`), the SFT datasets (:func:`expert_contexts`:
D_mix, which answers each call in a space drawn among those that can say it, or a single-space dataset)
and the RL decision points (:func:`strl_contexts`). The paper labels with SAM and MineCLIP; the simulator
knows every object, so these labels are exact.

Examples:
    >>> episodes = record_episodes([0], task_ids=["mine_block:oak_log"])
    >>> codebook = fit_codebook(episodes, size=4)
    >>> data = expert_contexts(episodes, codebook, "raw")
    >>> {space for _, space in data}, data[0][0].task
    ({'raw'}, 'mine_block:oak_log')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from ...controllers.latent import LATENT_CHUNK_TICKS, LatentCodebook
from ...spaces import RawSpace
from ...state import ViewState
from .env import CraftWorld
from .knowledge import Fact, spoken
from .labels import ExpertStep, label_step, record_expert
from .oracles import parse_skill
from .tasks import Task, get_task, tasks

__all__ = [
    "Context",
    "Episodes",
    "expert_contexts",
    "fit_codebook",
    "invented_name",
    "pov",
    "record_episodes",
    "renamed_skill_calls",
    "strl_contexts",
    "tokenizer_corpus",
]

#: The expert's episodes: each task with its steps, one entry per (task, seed).
Episodes = list[tuple[Task, list[ExpertStep]]]


@dataclass(frozen=True)
class Context:
    """One decision point of an expert episode: what the model sees and what each space would answer."""

    task: str
    prompt: str  # the observation text
    state: ViewState  # the view, so that grounding and motion answers can be executed for g(.)
    labels: dict[str, str]  # space -> response text
    frame: np.ndarray | None = None  # the pov frame a vision model sees


def record_episodes(seeds: Iterable[int], task_ids: Sequence[str] | None = None) -> Episodes:
    """The expert's episode on every training task (or ``task_ids``) from each seed, recorded once for every dataset."""
    chosen = tasks("train") if task_ids is None else [get_task(t) for t in task_ids]
    seeds = list(seeds)
    return [(task, record_expert(task, seed)) for task in chosen for seed in seeds]


def pov(env: object, stride: int) -> np.ndarray:
    """The frame a vision model sees: ``env``'s rendered first-person view, every ``stride``-th pixel.

    ``env`` is a CraftWorld or any wrapper of one (``TextActionEnv``).
    """
    world = cast(CraftWorld, getattr(env, "unwrapped", env))
    return np.ascontiguousarray(world.frame()[::stride, ::stride])


def expert_contexts(
    episodes: Episodes, codebook: LatentCodebook, pipeline: str, frame_stride: int | None = None
) -> list[tuple[Context, str]]:
    """Walk every expert episode as the agent would: one call, then as many ticks as it covers.

    The ``mixed`` pipeline answers each call in a space drawn uniformly among those that can express the
    step (D_mix, balanced by construction); a single-space pipeline always answers in its space (falling
    back to raw where the space cannot say the step, e.g. grounding with the target out of view). With
    ``frame_stride`` each context keeps its frame. The draw is seeded by the pipeline's name.
    """
    rng = np.random.default_rng(len(pipeline))
    out: list[tuple[Context, str]] = []
    for task, steps in episodes:
        t = 0
        while t < len(steps):
            labels = label_step(steps, t, codebook)
            if pipeline == "mixed":
                space = str(rng.choice(sorted(labels)))
            else:
                space = pipeline if pipeline in labels else "raw"
            env = steps[t].env
            frame = pov(env, frame_stride) if frame_stride else None
            context = Context(task.id, env.text(), env.view_state(), {k: v.text for k, v in labels.items()}, frame)
            out.append((context, space))
            t += labels[space].ticks
    return out


def fit_codebook(episodes: Episodes, size: int) -> LatentCodebook:
    """The latent space's codebook: k-means over chunks of the expert's actions, every other tick (deterministic)."""
    n = LATENT_CHUNK_TICKS
    chunks = []
    for _, steps in episodes:
        actions = [s.action for s in steps]
        chunks += [actions[i : i + n] for i in range(0, len(actions) - (n - 1), 2)]
    return LatentCodebook.fit(chunks, size=size, seed=0, chunk_ticks=n)


def strl_contexts(data: Sequence[tuple[Context, str]]) -> list[Context]:
    """The RL decision points: the contexts without the no-op ground truths (CrossAgent filters them).

    A no-op is judged on the canonical action, not the text: ``move(0, 0) and press() and click(left)``
    (an attack tick while mining) is kept.
    """
    raw = RawSpace()
    return [c for c, _ in data if not raw.canonicalize(raw.parse(c.labels["raw"])).is_noop]


#: Syllables of the invented names (lower-case letters only, so that a name reads like the registry's ids).
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "gl", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")


def invented_name(rng: np.random.Generator) -> str:
    """A made-up id of one to three words (``"brouzo_tami"``) in which no CraftWorld block or mob is named.

    Examples:
        >>> name = invented_name(np.random.default_rng(0))
        >>> name.replace("_", "").isalpha(), parse_skill("mine " + spoken(name))
        (True, None)
    """
    while True:
        words = [
            "".join(str(rng.choice(_ONSETS)) + str(rng.choice(_VOWELS)) for _ in range(int(rng.integers(2, 4))))
            for _ in range(int(rng.integers(1, 4)))
        ]
        name = "_".join(words)
        if all(parse_skill(f"{verb} {spoken(name)}") is None for verb in ("mine", "kill")):
            return name


def renamed_skill_calls(data: Sequence[tuple[Context, str]], copies: int, seed: int) -> list[tuple[Context, str]]:
    """``copies`` variants of each ``Skill:`` call of a mine or kill task, its target renamed to an invented name.

    The calls are those ``data`` answers in the language space.

    The target's id is replaced wherever the observation shows it (the ``task:`` line, the objects list)
    and its spelled-out name in the skill's text, so ``task: mine_block:oak_log`` → ``Skill: mine oak log``
    becomes ``task: mine_block:brouzo_tami`` → ``Skill: mine brouzo tami``. Trained on, they teach the
    model to copy the task's name rather than recall one of the training tasks' few targets, without
    showing it any held-out target. They are SFT data only: the context's view state still holds the
    original object, so they must not be executed or rewarded. A call whose text does not spell its
    target out is left out.

    Args:
        data: a dataset of (context, space), as :func:`expert_contexts` returns (D_mix).
        copies: how many renamed variants of each skill call (0: none).
        seed: the names' seed (the result is a pure function of the arguments).

    Raises:
        ValueError: ``copies`` is negative.

    Examples:
        >>> episodes = record_episodes([0], task_ids=["kill_entity:cow"])
        >>> data = expert_contexts(episodes, fit_codebook(episodes, size=4), "language")
        >>> context, space = renamed_skill_calls(data, copies=1, seed=0)[0]
        >>> name = context.task.split(":")[1]
        >>> f"task: kill_entity:{name}" in context.prompt, context.labels[space] == f"Skill: kill {spoken(name)}"
        (True, True)
    """
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    rng = np.random.default_rng(seed)
    out: list[tuple[Context, str]] = []
    for context, space in data:
        category, _, target = context.task.partition(":")
        if space != "language" or category not in ("mine_block", "kill_entity"):
            continue
        text = context.labels[space]
        spelled = re.compile(rf"\b{re.escape(spoken(target))}\b")
        if not spelled.search(text):
            continue
        for _ in range(copies):
            name = invented_name(rng)
            prompt = re.sub(rf"(?<![a-z_]){re.escape(target)}(?![a-z_])", name, context.prompt)
            label = spelled.sub(spoken(name), text)
            renamed = replace(context, task=f"{category}:{name}", prompt=prompt, labels={"language": label})
            out.append((renamed, "language"))
    return out


def tokenizer_corpus(data: Sequence[tuple[Context, str]], facts: Sequence[Fact]) -> list[str]:
    """What a tokenizer trained from scratch reads: every observation and label of ``data``, and the facts.

    The knowledge corpus names every registered item, block and mob, so that (as in a pretrained
    tokenizer) a held-out target's name is made of pieces the model has seen.
    """
    texts = [c.prompt for c, _ in data] + [text for c, _ in data for text in c.labels.values()]
    return texts + [text for f in facts for text in (f.prompt, f.answer)]
