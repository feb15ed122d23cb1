"""With worker processes, files are read in a process of their own (``read_apart``): the rows
and the summary are those of one process, a failure while reading reaches the caller, and a
run stopped early leaves no temporary file behind. A caller's own iterable is read in the
caller's process, where its state and its errors are."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from icp_notify.batch import Summary, dedupe, label, label_lines
from icp_notify.models import RawMessage

NOW = "2025-03-06T12:00:00+08:00"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _messages(n: int) -> list[RawMessage]:
    base = dt.datetime(2025, 3, 1, tzinfo=SHANGHAI)
    return [
        RawMessage(
            text=f"【工信部】您的短信核验码为{100000 + i}，24小时内有效。",
            sender="12381",
            received_at=base + dt.timedelta(minutes=i),
        )
        for i in range(n)
    ]


def _archive(path: Path, messages: list[RawMessage]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for m in messages:
            record = {"text": m.text, "sender": m.sender, "received_at": str(m.received_at)}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_rows_and_counts_equal_one_process(tmp_path: Path) -> None:
    msgs = _messages(300)
    first = _archive(tmp_path / "a.jsonl", [*msgs, *msgs[:7]])
    second = _archive(tmp_path / "b.jsonl", msgs[100:])
    one, two = Summary(), Summary()
    rows_one = list(label([first, second], now=NOW, summary=one))
    rows_two = list(label([str(first), second], now=NOW, summary=two, workers=2))
    assert rows_two == rows_one
    assert one.model_dump(exclude={"cache_hits"}) == two.model_dump(exclude={"cache_hits"})
    assert (two.read, two.labelled, two.duplicates) == (507, 300, 207)
    assert two.consistent


def test_a_failure_while_reading_files_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from icp_notify.readers import walk

    def broken(*_a: Any, **_k: Any) -> Iterator[RawMessage]:
        yield from _messages(600)
        raise OSError("the disk went away")

    monkeypatch.setattr(walk, "read_inputs", broken)  # forked: the reader process has it too
    with pytest.raises(RuntimeError, match="OSError: the disk went away"):
        list(label([tmp_path / "any.jsonl"], now=NOW, workers=2))


def test_a_callers_iterable_is_read_in_the_callers_process() -> None:
    pids: set[int] = set()

    def mine() -> Iterator[RawMessage]:
        for m in _messages(600):
            pids.add(os.getpid())
            yield m
        raise KeyError("the caller's own error")

    with pytest.raises(KeyError, match="the caller's own error"):
        list(label(mine(), now=NOW, workers=2))
    assert pids == {os.getpid()}


def _seen_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("icp_notify_seen_*")}


def test_stopping_early_leaves_no_seen_set_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dedupe, "SEEN_MEMORY_KEYS", 8)  # the reader spills to SQLite at once
    archive = _archive(tmp_path / "a.jsonl", _messages(3000))
    before = _seen_dirs()
    rows = label_lines([archive], now=NOW, workers=2)
    assert next(rows).seq == 0
    rows.close()  # the reader process is stopped, with its temporary seen-set
    assert _seen_dirs() == before
