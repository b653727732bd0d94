"""Training stages that resume: a run's policy checkpoints, its metrics log, and the loop that ties them.

A training recipe is a sequence of named stages (``"sft"``, ``"grpo"`` …), each a number of iterations of
a :data:`Step` applied to a copy of the stage's starting policy. :func:`train_stage` runs one, saving a
checkpoint after every iteration through a :class:`TrainingRun`, so a killed run resumed with the same
calls loses at most the iteration in flight and repeats exactly what the killed one would have done
(each iteration re-seeds from ``(seed, stage, iteration)`` with :func:`seed_iteration`).

Examples:
    >>> import tempfile
    >>> from actionspaces.training.policy import load_policy
    >>> from actionspaces.training.tiny import build_tiny_policy
    >>> policy = build_tiny_policy(["Action: move(0, 0)"], vocab_size=64, hidden_size=16, layers=1, heads=2)
    >>> run = TrainingRun(Path(tempfile.mkdtemp()), load=load_policy, echo=lambda line: None)
    >>> def step(policy, optimizer, iteration, reference):
    ...     return {"loss": 1.0 / (iteration + 1)}
    >>> trained = train_stage(run, "sft", policy, 2, lr=1e-3, step=step, seed=0)
    >>> [m["loss"] for m in run.metrics()], run.resume("sft").progress
    ([1.0, 0.5], {'iteration': 2, 'done': True})
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from .checkpoints import PROGRESS_FILE, Checkpoints
from .policy import optimizer_groups
from .protocol import TrainablePolicy
from .rundir import RUN_NAME_PATTERN, RunFileError, append_jsonl, read_json, read_jsonl, refuse_links, write_atomic

__all__ = ["Resumed", "Step", "TrainingRun", "seed_iteration", "train_stage"]

T = TypeVar("T")

#: One iteration of a stage: ``step(policy, optimizer, iteration, reference) -> metrics``. ``reference`` is
#: the frozen starting policy of a stage trained with a KL term, else ``None``.
Step = Callable[[TrainablePolicy, torch.optim.Optimizer, int, "TrainablePolicy | None"], dict[str, float]]

#: The optimizer state's file inside a checkpoint (tensors and plain containers: loaded ``weights_only``).
TRAINER_STATE_FILE = "trainer_state.pt"


class Resumed(NamedTuple):
    """The newest checkpoint of a stage that loads: its progress, its policy, its optimizer's state."""

    progress: dict[str, Any]
    policy: TrainablePolicy
    optimizer_state: dict[str, Any] | None


@dataclass
class TrainingRun:
    """A run directory at training time: checkpoints per stage, ``metrics.jsonl``, cached JSON artefacts.

    Raises (from the constructor and the methods that touch files):
        FileNotFoundError: ``root`` is not a directory.
        RunFileError: ``metrics.jsonl`` or a cached artefact is corrupted (the message names the file and line).
        RunLinkError: a symbolic link where the run keeps a file (metrics, checkpoints, caches, tensorboard).

    Args:
        root: the run's directory, which must exist (made with :func:`~actionspaces.training.open_run` or
            :func:`~actionspaces.training.create_run`).
        load: how a checkpoint directory becomes a policy again (``load_policy`` with the same extra
            tokens the run's policy was built with).
        attach: writes files of the run's own into every checkpoint (a codebook), or ``None``.
        echo: where each iteration's one-line summary goes (``tqdm.write`` keeps progress bars intact).
        tensorboard: also log every metric to ``root/tensorboard`` (needs the ``tensorboard`` package).
    """

    root: Path
    load: Callable[[Path], TrainablePolicy]
    attach: Callable[[Path], None] | None = None
    echo: Callable[[str], Any] = tqdm.write
    tensorboard: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"run directory {self.root} does not exist: make it with open_run or create_run")
        self.checkpoints = Checkpoints(self.root / "checkpoints")
        self.metrics_path = self.root / "metrics.jsonl"
        self.timings_path = self.root / "timings.jsonl"
        self.writer: Any = None
        if self.tensorboard:
            refuse_links(self.root / "tensorboard")
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise ImportError("tensorboard logging needs the tensorboard package: pip install tensorboard") from err
            self.writer = SummaryWriter(str(self.root / "tensorboard"))

    def save(
        self, stage: str, policy: TrainablePolicy, optimizer: torch.optim.Optimizer | None, progress: dict[str, Any]
    ) -> None:
        """Checkpoint ``stage``: model, tokenizer, image processor, optimizer state, attachments, progress.

        A finished stage (``progress["done"]``) is kept lean: its checkpoint holds no optimizer state and
        replaces the previous one, which nothing would resume from (on the pretrained preset this cuts a
        stage's 2.2 GB on disk to 0.65 GB).
        """
        done = bool(progress.get("done"))

        def write(directory: Path) -> None:
            policy.save(directory)
            # no RNG state: every iteration re-seeds from (seed, stage, iteration) before it draws
            state = optimizer.state_dict() if optimizer is not None and not done else None
            torch.save({"optimizer": state}, directory / TRAINER_STATE_FILE)
            if self.attach is not None:
                self.attach(directory)

        self.checkpoints.save(stage, write, progress, keep_previous=not done)

    def resume(self, stage: str) -> Resumed | None:
        """The newest checkpoint of ``stage`` that loads (a damaged one is named, and the previous tried)."""

        def load(directory: Path) -> tuple[TrainablePolicy, dict[str, Any] | None]:
            policy = self.load(directory)
            if read_json(directory / PROGRESS_FILE)["done"]:
                return policy, None  # a finished stage needs no optimizer
            # weights only: the file holds tensors and plain containers, nothing to unpickle
            return policy, torch.load(directory / TRAINER_STATE_FILE, weights_only=True)["optimizer"]

        found = self.checkpoints.resume(stage, load)
        if found is None:
            return None
        progress, (policy, optimizer_state) = found
        return Resumed(progress, policy, optimizer_state)

    def log(self, stage: str, iteration: int, metrics: dict[str, float]) -> None:
        """Append one iteration's metrics (rounded to 6 decimals) to ``metrics.jsonl`` and echo them."""
        line = {"stage": stage, "iteration": iteration, **{k: round(float(v), 6) for k, v in metrics.items()}}
        append_jsonl(self.metrics_path, line)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in list(metrics.items())[:7])
        self.echo(f"[{stage} {iteration + 1}] {shown}")
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar(f"{stage}/{key}", value, iteration)

    def log_time(self, stage: str, iteration: int, **seconds: float) -> None:
        """Append where one iteration's wall time went to ``timings.jsonl``.

        Kept apart from ``metrics.jsonl``, which a rerun reproduces byte for byte: times never repeat.

        Examples:
            >>> import tempfile
            >>> run = TrainingRun(Path(tempfile.mkdtemp()), load=lambda d: None)
            >>> run.log_time("mix", 0, step=12.5, save=1.25)
            >>> run.timings()
            [{'stage': 'mix', 'iteration': 0, 'step': 12.5, 'save': 1.25}]
        """
        append_jsonl(self.timings_path, {"stage": stage, "iteration": iteration,
                                         **{k: round(float(v), 3) for k, v in seconds.items()}})  # fmt: skip

    def timings(self) -> list[dict[str, Any]]:
        """Every line of ``timings.jsonl`` (none before the first iteration)."""
        return read_jsonl(self.timings_path) if self.timings_path.exists() else []

    def metrics(self) -> list[dict[str, Any]]:
        """Every logged line (a torn last line, left by a kill during an append, is skipped).

        Raises:
            RunFileError: a line is not a JSON object, or has no ``stage`` name or ``iteration`` number.
        """
        records = read_jsonl(self.metrics_path)
        for number, record in enumerate(records, 1):
            if not isinstance(record.get("stage"), str) or type(record.get("iteration")) is not int:
                raise RunFileError(
                    f"{self.metrics_path}: record {number} has no stage name or iteration number: {str(record)[:80]}"
                )
        return records

    def forget(self, stage: str, from_iteration: int) -> None:
        """Drop the metric lines of iterations that a resumed stage will run again."""
        if not self.metrics_path.exists():
            return
        kept = [m for m in self.metrics() if not (m["stage"] == stage and m["iteration"] >= from_iteration)]
        write_atomic(self.metrics_path, "".join(json.dumps(m) + "\n" for m in kept))

    def cached(self, kind: str, name: str, compute: Callable[[], T]) -> T:
        """``root/kind/name.json``: computed once per run, and again if its file is damaged.

        The time a computation took goes to ``timings.jsonl`` (stage ``kind/name``).

        Raises:
            ValueError: ``kind`` or ``name`` is not a plain name (so nothing outside the run is written).
            RunLinkError: the artefact's file or its folder is a symbolic link.
        """
        for part in (kind, name):
            if not isinstance(part, str) or not re.fullmatch(RUN_NAME_PATTERN, part):
                raise ValueError(f"artefact {kind!r}/{name!r}: {part!r} is not a plain name")
        path = refuse_links(self.root / kind / f"{name}.json")
        if path.is_file():
            try:
                return read_json(path)  # type: ignore[no-any-return]
            except RunFileError as err:
                self.echo(f"{err}: computing it again")
        started = time.perf_counter()
        value = compute()
        self.log_time(f"{kind}/{name}", 0, compute=time.perf_counter() - started)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(value))
        return value


def seed_iteration(seed: int, stage: str, iteration: int) -> None:
    """Seed Python's, numpy's and torch's global generators from ``(seed, stage, iteration)``.

    Each iteration draws from its own seed, so a resumed run repeats what the killed one would have done.

    Examples:
        >>> seed_iteration(0, "sft", 3); a = np.random.rand()
        >>> seed_iteration(0, "sft", 3); a == np.random.rand()
        True
    """
    value = (seed * 1_000_003 + sum(map(ord, stage)) * 7919 + iteration) % 2**32
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def train_stage(
    run: TrainingRun,
    stage: str,
    parent: TrainablePolicy,
    iterations: int,
    *,
    lr: float,
    step: Step,
    seed: int,
    kl: bool = False,
    weight_decay: float = 0.01,
) -> TrainablePolicy:
    """Run ``step`` for ``iterations`` iterations on a copy of ``parent``, checkpointing after each.

    A stage with a checkpoint resumes from it (the optimizer's state included; metric lines of the
    iterations run again are dropped); a finished stage returns its policy at once. The returned policy
    samples under ``parent``'s grammar constraint, if any.

    Args:
        run: where the checkpoints and metrics go.
        stage: the stage's name (a plain name: its checkpoint's directory).
        parent: the starting policy (left untouched).
        iterations: how many times ``step`` runs; 0 checkpoints ``parent``'s copy as the stage's result.
        lr: AdamW's learning rate.
        step: one iteration (:data:`Step`).
        seed: the run's seed (each iteration is seeded from it, ``stage`` and the iteration).
        kl: pass ``parent`` to ``step`` as the frozen reference of a KL term.
        weight_decay: AdamW's weight decay.

    Raises:
        ValueError: ``iterations`` is negative.
    """
    if iterations < 0:
        raise ValueError(f"stage {stage!r}: iterations must be >= 0, got {iterations}")
    resumed = run.resume(stage)
    if resumed is not None and resumed.progress["done"]:
        return resumed.policy.with_constraint(parent.constraint)
    reference = parent if kl else None
    if resumed is None:
        policy, start = parent.copy(), 0
    else:
        policy, start = resumed.policy.with_constraint(parent.constraint), resumed.progress["iteration"]
    # frozen weights stay out of the optimizer: no state, no decay, no update
    optimizer = torch.optim.AdamW(optimizer_groups(policy.trainable_parameters(), weight_decay), lr=lr)
    if resumed is not None and resumed.optimizer_state is not None:
        optimizer.load_state_dict(resumed.optimizer_state)
    run.forget(stage, start)
    bar: Iterable[int] = tqdm(range(start, iterations), desc=stage, initial=start, total=iterations, leave=False)
    for it in bar:
        seed_iteration(seed, stage, it)
        started = time.perf_counter()
        metrics = step(policy, optimizer, it, reference)
        stepped = time.perf_counter()
        run.log(stage, it, metrics)
        run.save(stage, policy, optimizer, {"iteration": it + 1, "done": it + 1 == iterations})
        run.log_time(stage, it, step=stepped - started, save=time.perf_counter() - stepped)
    if iterations == 0:
        run.save(stage, policy, optimizer, {"iteration": 0, "done": True})
    return policy
