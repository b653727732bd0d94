"""A run directory is a closed world: no write through a link, no lost record, named errors (issue 27).

Every kind of path a run writes, appends, replaces or deletes gets a link planted at it; the link's
target must come through unchanged and the error must name the link. The property tests interleave
appends, kills at every byte, and reads of the metrics log.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from actionspaces.training import (
    Checkpoints,
    RunFileError,
    RunLinkError,
    append_jsonl,
    create_run,
    open_run,
    read_jsonl,
    refuse_links,
    write_atomic,
)


class Cfg(BaseModel):
    lr: float = 0.1


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file under ``root`` (links not followed) with its bytes: what must not change."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() or p.is_symlink() else p.read_bytes()) for p in root.rglob("*")
    }


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every run, with a file and a checkpoint-like folder in it."""
    victim = tmp_path / "outside"
    (victim / "sft.prev").mkdir(parents=True)
    (victim / "sft.prev" / "weights.bin").write_bytes(b"precious weights")
    (victim / "notes.txt").write_text("precious notes")
    return victim


def _write_config(run: Path) -> None:
    open_run(run.parent, run.name, Cfg(), resume=True, overwrite=False)


def _append_metrics(run: Path) -> None:
    append_jsonl(run / "metrics.jsonl", {"stage": "sft", "iteration": 0, "loss": 1.0})


def _save_checkpoint(run: Path) -> None:
    Checkpoints(run / "checkpoints").save("sft", lambda d: (d / "w.txt").write_text("new"), {"iteration": 1})


def _cache(run: Path) -> None:
    write_atomic(refuse_links(run / "data" / "rejection_sampled.json"), "{}")


def _report(run: Path) -> None:
    write_atomic(run / "results.json", "{}")


def _plot(run: Path) -> None:
    refuse_links(run / "curves.png").write_bytes(b"png")


# (where the link is planted, relative to the run; what it points at; the library call that must refuse it)
PLANTED: list[tuple[str, str, Callable[[Path], None]]] = [
    ("config.json.tmp", "notes.txt", _write_config),
    ("config.json", "notes.txt", _write_config),
    ("metrics.jsonl", "notes.txt", _append_metrics),
    ("metrics.jsonl.tmp", "notes.txt", lambda run: write_atomic(run / "metrics.jsonl", "")),
    ("checkpoints", ".", _save_checkpoint),
    ("checkpoints/sft", "sft.prev", _save_checkpoint),
    ("checkpoints/sft.prev", "sft.prev", _save_checkpoint),
    ("checkpoints/sft.tmp", "sft.prev", _save_checkpoint),
    ("data", ".", _cache),
    ("data/rejection_sampled.json", "notes.txt", _cache),
    ("results.json", "notes.txt", _report),
    ("results.json.tmp", "notes.txt", _report),
    ("curves.png", "notes.txt", _plot),
    ("codebook.json", "notes.txt", lambda run: refuse_links(run / "codebook.json")),
    ("tensorboard", ".", lambda run: refuse_links(run / "tensorboard" / "events")),
]


@pytest.mark.parametrize(("where", "target", "write"), PLANTED, ids=[p[0] for p in PLANTED])
def test_a_link_planted_where_a_run_keeps_a_file_is_refused_and_its_target_untouched(
    tmp_path: Path, outside: Path, where: str, target: str, write: Callable[[Path], None]
) -> None:
    run = open_run(tmp_path / "runs", "x", Cfg(), resume=False, overwrite=False)
    _save_checkpoint(run)  # a current checkpoint, so that a second save would rotate it to .prev
    link = run / where
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_dir() and not link.is_symlink():
        import shutil

        shutil.rmtree(link)
    link.unlink(missing_ok=True)
    link.symlink_to((outside / target).resolve())
    before = _snapshot(outside)
    with pytest.raises(RunFileError) as caught:
        write(run)
    assert before == _snapshot(outside)
    assert where.split("/", maxsplit=1)[0] in str(caught.value)


def test_refuse_links_outside_a_run_checks_only_the_file(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    assert refuse_links(tmp_path / "alias" / "f.txt") == tmp_path / "alias" / "f.txt"  # a user's own linked folder
    (real / "g.txt").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunLinkError, match=r"g\.txt"):
        write_atomic(real / "g.txt", "x")
    assert not (tmp_path / "elsewhere").exists()


def test_open_run_names_a_file_where_the_run_should_be_and_a_folder_where_its_config_should_be(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "afile").write_text("not a run")
    with pytest.raises(FileExistsError, match="afile exists and is not a directory"):
        open_run(runs, "afile", Cfg(), resume=True, overwrite=False)
    run = open_run(runs, "r", Cfg(), resume=False, overwrite=False)
    (run / "config.json").unlink()
    (run / "config.json").mkdir()
    with pytest.raises(RunFileError, match=r"config.json is not a file"):
        open_run(runs, "r", Cfg(), resume=True, overwrite=False)
    marker = create_run(runs / "m") / ".actionspaces-run"
    marker.unlink()
    marker.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunLinkError, match="marker"):
        create_run(runs / "m")
    assert not (tmp_path / "elsewhere").exists()


def test_a_binary_line_in_the_middle_of_the_log_is_named(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    log.write_bytes(b'{"a": 1}\n\xff\xfe garbage\n{"b": 2}\n')
    with pytest.raises(RunFileError, match=r"metrics.jsonl line 2 is not a JSON object"):
        read_jsonl(log)
    log.unlink()
    log.mkdir()
    with pytest.raises(RunFileError, match="is a directory"):
        read_jsonl(log)


def test_a_complete_last_record_without_its_newline_is_kept_by_reader_and_appender(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":2}')
    assert read_jsonl(log) == [{"a": 1}, {"b": 2}]
    append_jsonl(log, {"c": 3})
    assert read_jsonl(log) == [{"a": 1}, {"b": 2}, {"c": 3}]
    log.write_bytes(b'{"a":1}\n{"b":')  # a torn fragment: dropped by both
    with pytest.warns(UserWarning, match="partial last line"):
        assert read_jsonl(log) == [{"a": 1}]
    append_jsonl(log, {"c": 3})
    assert log.read_bytes() == b'{"a":1}\n{"c": 3}\n'


RECORDS = st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.text(max_size=6), st.none()),
    max_size=3,
)
# an append, or an append that a kill cut after `cut` bytes of its line
OPERATIONS = st.lists(st.tuples(RECORDS, st.one_of(st.none(), st.integers(min_value=0))), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(operations=OPERATIONS)
def test_appends_kills_and_reads_never_lose_a_complete_record(tmp_path_factory, operations) -> None:
    log = tmp_path_factory.mktemp("log") / "metrics.jsonl"
    kept: list[dict] = []  # what a reader must see
    for record, cut in operations:
        line = (json.dumps(record) + "\n").encode()
        if cut is None:
            append_jsonl(log, record)
            kept = [*kept, record]
        else:  # the kill: only the first `cut` bytes of the appended line reached the disk
            append_jsonl(log, record)
            with log.open("rb+") as f:
                f.truncate(log.stat().st_size - len(line) + cut % len(line))
            if cut % len(line) == len(line) - 1:
                kept = [*kept, record]  # everything but the newline: a complete record
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert read_jsonl(log) == kept
    append_jsonl(log, {"end": True})
    assert read_jsonl(log) == [*kept, {"end": True}]
