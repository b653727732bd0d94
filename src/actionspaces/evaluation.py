"""Play and score episodes in batch: any responder, any ``TextActionEnv``, the reference's metrics and layout.

:func:`play` runs a batch of text-action envs to the end, asking one ``respond`` call per turn for every
live env at once (so a model server or a Hugging Face model answers a batch). It is the rollout loop of
the reference trainer's multi-turn stage and of its evaluation. :func:`summarize` computes CrossHA's
metrics per split and category: FT (the share of tasks solved at least once), ASR (mean success), tokens
per call and per episode, calls and ticks per episode, and the share of calls executed in each space.
:func:`openha_layout` writes the reference's per-task results file.

Examples:
    >>> from actionspaces.envs.craftworld import make_text_env
    >>> def respond(observations):  # a hand-written policy: always chop
    ...     return [Answer("Skill: chop the oak tree", tokens=5) for _ in observations]
    >>> envs = [make_text_env("mine_block:oak_log", max_calls=3) for _ in range(2)]
    >>> episodes = play(envs, [("mine_block:oak_log", 0), ("mine_block:oak_log", 1)], respond)
    >>> [e.calls for e in episodes], all(e.success in (0.0, 1.0) for e in episodes)
    ([1, 1], True)
    >>> task = "mine_block:oak_log"
    >>> summary = summarize(episodes, splits={task: "ID"}, categories={task: "mine_block"})
    >>> summary["ID/all"]["ASR"], summary["ID/all"]["shares"]["language"]
    (1.0, 1.0)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .registry import text_order
from .rewards import episode_success

__all__ = ["Answer", "Episode", "Turn", "call_shares", "episode_records", "openha_layout", "play", "summarize"]


class Answer(NamedTuple):
    """A responder's answer for one env: the ``text`` executed, its ``tokens``, and what to keep with it."""

    text: str
    tokens: int
    prompt: Any = None
    response: Any = None


@dataclass
class Turn:
    """One call of an episode: what was answered, its token count, and the space it executed (``None``: none)."""

    text: str
    tokens: int
    space: str | None
    prompt: Any = None
    response: Any = None


@dataclass
class Episode:
    """One played episode: its task and seed, every turn, whether it succeeded, and the ticks it took."""

    task: str
    seed: int
    turns: list[Turn] = field(default_factory=list)
    success: float = 0.0
    ticks: int = 0

    @property
    def calls(self) -> int:
        """Model calls made."""
        return len(self.turns)

    @property
    def tokens(self) -> int:
        """Tokens written over the episode."""
        return sum(t.tokens for t in self.turns)

    @property
    def unparsed(self) -> int:
        """Calls whose response had nothing executable (each costs the format penalty in MTRL's return)."""
        return sum(t.space is None for t in self.turns)


def call_shares(episodes: Sequence[Episode], spaces: Sequence[str] | None = None) -> dict[str, float]:
    """The share of the episodes' calls executed in each space (``"none"``: nothing executable).

    ``spaces`` are the registry's in text order and ``"none"`` by default; with no call, every share is 0.
    """
    names = tuple(spaces) if spaces is not None else (*text_order(), "none")
    calls = [t.space or "none" for e in episodes for t in e.turns]
    return {s: calls.count(s) / len(calls) if calls else 0.0 for s in names}


def play(
    envs: Sequence[Any],
    episodes: Sequence[tuple[str, int]],
    respond: Callable[[list[Any]], Sequence[Answer]],
    *,
    observe: Callable[[Any, Mapping[str, Any]], Any] | None = None,
    progress: bool = False,
) -> list[Episode]:
    """Play ``envs[i]`` from ``episodes[i] = (task, seed)`` to the end; each turn, one ``respond`` over the live envs.

    Args:
        envs: text-action envs (``TextActionEnv`` or ``gymnasium.make`` of one), one per episode.
        episodes: the task (for success) and seed (for ``reset``) of each.
        respond: answers a list of observations (one per live env, in order) with an :class:`Answer` each.
        observe: what ``respond`` sees of an env and its observation (``obs["text"]`` by default).
        progress: show a tqdm bar of finished episodes (needs tqdm).

    Raises:
        ValueError: ``envs`` and ``episodes`` differ in length, or ``respond`` answers the wrong number.
    """
    if len(envs) != len(episodes):
        raise ValueError(f"{len(envs)} envs for {len(episodes)} episodes")
    look = observe or _text
    bar = _bar(len(envs)) if progress else None
    results = [Episode(task, seed) for task, seed in episodes]
    observations = [look(env, env.reset(seed=seed)[0]) for env, (_, seed) in zip(envs, episodes, strict=True)]
    live = list(range(len(envs)))
    while live:
        answers = list(respond([observations[i] for i in live]))
        if len(answers) != len(live):
            raise ValueError(f"respond answered {len(answers)} of {len(live)} observations")
        still = []
        for i, answer in zip(live, answers, strict=True):
            obs, _, terminated, truncated, info = envs[i].step(answer.text)
            episode = results[i]
            episode.turns.append(Turn(answer.text, answer.tokens, info["space"], answer.prompt, answer.response))
            episode.ticks = info["total_ticks"]
            episode.success = episode_success(info, episode.task)
            observations[i] = look(envs[i], obs)
            if not (terminated or truncated):
                still.append(i)
            elif bar is not None:
                bar.update(1)
        live = still
    if bar is not None:
        bar.close()
    return results


def summarize(
    episodes: Sequence[Episode],
    *,
    splits: Mapping[str, str],
    categories: Mapping[str, str],
    spaces: Sequence[str] | None = None,
    order: tuple[Sequence[str], Sequence[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """CrossHA's metrics per ``"<split>/<category>"`` and ``"<split>/all"`` (groups with no episode are left out).

    Args:
        episodes: played episodes.
        splits: each task's split (``"ID"``, ``"OOD"``); every episode's task must be there.
        categories: each task's category (``"mine_block"``, ...).
        spaces: the spaces whose call shares are reported (the registry's, in text order, and ``"none"`` for
            calls with nothing executable, by default).
        order: the splits and the categories in the order to report them (as they first appear in
            ``splits`` and ``categories`` by default).

    Raises:
        KeyError: an episode's task has no split or category.
    """
    names = tuple(spaces) if spaces is not None else (*text_order(), "none")
    missing = sorted({e.task for e in episodes} - (set(splits) & set(categories)))
    if missing:
        raise KeyError(f"tasks without a split or a category: {missing[:5]}")
    split_names, category_names = order or (
        list(dict.fromkeys(splits.values())),
        list(dict.fromkeys(categories.values())),
    )
    summary: dict[str, dict[str, Any]] = {}
    for split in split_names:
        for category in (*category_names, "all"):
            group = [
                e for e in episodes if splits[e.task] == split and category in ("all", categories[e.task])
            ]  # fmt: skip
            if not group:
                continue
            solved: dict[str, bool] = defaultdict(bool)
            for e in group:
                solved[e.task] |= e.success > 0
            summary[f"{split}/{category}"] = {
                "FT": float(np.mean(list(solved.values()))),
                "ASR": float(np.mean([e.success for e in group])),
                "tokens_per_call": float(np.mean([t.tokens for e in group for t in e.turns])),
                "tokens_per_episode": float(np.mean([e.tokens for e in group])),
                "calls_per_episode": float(np.mean([e.calls for e in group])),
                "ticks_per_episode": float(np.mean([e.ticks for e in group])),
                "shares": call_shares(group, names),
                "episodes": len(group),
            }
    return summary


def openha_layout(episodes: Sequence[Episode], model: str) -> dict[str, dict[str, dict[str, float]]]:
    """The reference's per-task results: ``{model: {task: {task_suc_nums, task_total_nums, task_suc_rate}}}``.

    Examples:
        >>> openha_layout([Episode("kill_entity:cow", 0, success=1.0), Episode("kill_entity:cow", 1)], "crossha")
        {'crossha': {'kill_entity:cow': {'task_suc_nums': 1, 'task_total_nums': 2, 'task_suc_rate': 0.5}}}
    """
    per_task: dict[str, list[float]] = defaultdict(list)
    for e in episodes:
        per_task[e.task].append(e.success)
    layout: dict[str, dict[str, float]] = {}
    for task, outcomes in per_task.items():
        solved = sum(s > 0 for s in outcomes)
        layout[task] = {
            "task_suc_nums": solved,
            "task_total_nums": len(outcomes),
            "task_suc_rate": solved / len(outcomes),
        }
    return {model: layout}


def episode_records(episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    """One JSON-ready record per episode (task, seed, success, tokens, calls, ticks, calls per space).

    What :func:`actionspaces.statistics.task_sums` reads to put error bars on a table: the per-episode
    outcomes a summary averages away. A call with nothing executable counts under ``"none"``.

    Examples:
        >>> episode = Episode("kill_entity:cow", 3, [Turn("Skill: kill cow", 4, "language")], success=1.0, ticks=80)
        >>> episode_records([episode])
        [{'task': 'kill_entity:cow', 'seed': 3, 'success': 1.0, 'tokens': 4, 'calls': 1, 'ticks': 80,
          'spaces': {'language': 1}}]
    """
    records = []
    for e in episodes:
        spaces: dict[str, int] = defaultdict(int)
        for t in e.turns:
            spaces[t.space or "none"] += 1
        records.append({"task": e.task, "seed": e.seed, "success": e.success, "tokens": e.tokens,
                        "calls": e.calls, "ticks": e.ticks, "spaces": dict(spaces)})  # fmt: skip
    return records


def _text(env: Any, obs: Mapping[str, Any]) -> str:
    if not isinstance(obs, Mapping) or not isinstance(obs.get("text"), str):
        raise ValueError("the observation has no 'text'; pass observe= to say what the responder sees")
    return str(obs["text"])


def _bar(total: int) -> Any:
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError as err:
        raise ImportError("play(progress=True) needs tqdm: pip install tqdm") from err
    return tqdm(total=total, desc="episodes", leave=False)
