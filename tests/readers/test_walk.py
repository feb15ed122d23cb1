"""Picking the reader (icp_notify.readers.walk): directories, forced formats, missing files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from _helpers import ARCHIVES, errors, messages

from icp_notify.models import RawMessage
from icp_notify.readers import read_file, read_inputs


def test_directory_walk_with_binary_and_empty_files(tmp_path: Path) -> None:
    shutil.copy(ARCHIVES / "notices.txt", tmp_path / "notices.txt")
    shutil.copytree(ARCHIVES / "maildir", tmp_path / "mail")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2000))
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "empty.txt").write_bytes(b"")
    items = list(read_inputs([tmp_path]))
    assert sorted(e.code for e in errors(items)) == ["binary_file", "binary_file", "empty"]
    assert len(messages(items)) == 3 + 2


def test_input_format_forces_a_reader(tmp_path: Path) -> None:
    p = tmp_path / "export.dat"
    p.write_text('{"text": "备案已通过"}\n', encoding="utf-8")
    assert [m.text for m in messages(list(read_file(p, input_format="text")))] == [
        '{"text": "备案已通过"}'
    ]
    assert [m.text for m in messages(list(read_file(p)))] == ["备案已通过"]


def test_missing_input_and_file_disappearing(tmp_path: Path) -> None:
    assert [e.code for e in errors(list(read_inputs([tmp_path / "nope.xml"])))] == ["not_found"]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("第一条\n", encoding="utf-8")
    b.write_text("第二条\n", encoding="utf-8")
    stream = read_inputs([tmp_path])
    first = next(stream)
    assert isinstance(first, RawMessage)
    b.unlink()  # disappears after the walk listed it
    rest = list(stream)
    assert [e.code for e in errors(rest)] == ["not_found"]
