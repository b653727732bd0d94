"""The command line under hostile input: exit codes and messages, never a traceback (issue 27)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actionspaces import cli
from actionspaces.cli import app, shown

runner = CliRunner()


def _clean(result) -> None:
    """The command ended through its own exit, not an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_undecodable_deep_and_huge_lines_are_line_errors_with_the_summary(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli, "MAX_LINE_BYTES", 200_000)
    data = tmp_path / "bad.jsonl"
    data.write_bytes(
        b'{"text": "Action: no_op"}\n'
        b'{"text": "\xff\xfe"}\n' + b"[" * 100_000 + b"\n" + b'{"text": "' + b"x" * 300_000 + b'"}\n'
        b'{"text": "Motion: turn left"}\n'
    )
    out = runner.invoke(app, ["validate", str(data)])
    _clean(out)
    assert out.exit_code == 1
    assert ":2: cannot read text: not UTF-8" in out.output
    assert ":3: cannot read text: not JSON this tool reads: nested too deeply" in out.output
    assert ":4: cannot read text: line longer than 200000 bytes" in out.output
    assert ":5: ok (motion)" in out.output
    assert "5 responses, 2 parsed, 3 failed" in out.output


def test_a_carriage_return_inside_a_record_is_not_a_line_break(tmp_path: Path) -> None:
    data = tmp_path / "cr.jsonl"
    data.write_bytes(b'{"text":\r"Action: no_op"}\n{"text": "Motion: turn left"}\n')
    out = runner.invoke(app, ["validate", str(data)])
    assert out.exit_code == 0 and ":1: ok (raw)" in out.output and ":2: ok (motion)" in out.output


def test_what_the_file_holds_is_printed_escaped(tmp_path: Path) -> None:
    forged = "\x1b[2J\nfile.jsonl:9: ok (raw)"
    data = tmp_path / "keys.jsonl"
    data.write_text(json.dumps({forged: 1}) + "\n" + json.dumps({"text": "Action: press(\x1b[31m)"}) + "\n")
    out = runner.invoke(app, ["validate", str(data)])
    assert out.exit_code == 1 and "\x1b" not in out.output
    assert "\\x1b[2J\\nfile.jsonl:9: ok (raw)" in out.output
    assert len([line for line in out.output.splitlines() if ": ok (" in line and "\\n" not in line]) == 0
    as_json = runner.invoke(app, ["validate", str(data), "--json"])
    assert "\x1b" not in as_json.output
    assert all(json.loads(line) for line in as_json.output.splitlines())
    assert shown("tab\tstays, bell\x07 and rtl\u202e do not") == "tab\tstays, bell\\x07 and rtl\\u202e do not"


def test_standard_input_pipes_and_fifos_are_read(tmp_path: Path) -> None:
    out = runner.invoke(app, ["validate", "-"], input=b'{"text": "Action: no_op"}\n')
    assert out.exit_code == 0 and "<stdin>:1: ok (raw)" in out.output
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as f:
            f.write(b'{"text": "Action: no_op"}\n')

    writer = threading.Thread(target=feed)
    writer.start()
    out = runner.invoke(app, ["validate", str(fifo)])
    writer.join(timeout=10)
    assert out.exit_code == 0 and "1 responses, 1 parsed" in out.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "{path}", "--field", "a..b"], "--field: malformed field path"),
        (["validate", "{path}", "--field", ""], "--field: empty field path"),
        (["validate", "{dir}"], "is a directory"),
        (["validate", "{dir}/missing.jsonl"], "no such file"),
        (["bench", "--seed", "-1"], "--seed"),
        (["bench", "--n", "0"], "--n"),
        (["grammar", "nosuch"], "unknown space"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text('{"text": "Action: no_op"}\n')
    out = runner.invoke(app, [a.format(path=path, dir=tmp_path) for a in args])
    _clean(out)
    assert out.exit_code == 2 and message in out.output


def test_parse_refuses_undecodable_standard_input() -> None:
    out = runner.invoke(app, ["parse", "-"], input=b"Action: \xff")
    _clean(out)
    assert out.exit_code == 2 and "not UTF-8" in out.output


def test_main_turns_an_unforeseen_failure_into_one_line(monkeypatch, capsys) -> None:
    def broken() -> None:
        raise RuntimeError("boom\x1b[2J")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("ACTIONSPACES_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    err = capsys.readouterr().err
    assert ended.value.code == 1 and "internal error: RuntimeError: boom\\x1b[2J" in err and "Traceback" not in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), as_json=st.booleans())
def test_validate_survives_any_bytes(tmp_path: Path, data: bytes, as_json: bool) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    out = runner.invoke(app, ["validate", str(path), *(["--json"] if as_json else [])])
    _clean(out)
    assert out.exit_code in (0, 1)
    assert "\x1b" not in out.output
    if as_json:
        assert "summary" in json.loads(out.output.splitlines()[-1])
    else:
        assert " responses, " in out.output


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200), as_json=st.booleans())
def test_parse_survives_any_text(text: str, as_json: bool) -> None:
    out = runner.invoke(app, ["parse", "-", *(["--json"] if as_json else [])], input=text.encode("utf-8", "replace"))
    _clean(out)
    assert out.exit_code in (0, 1)
