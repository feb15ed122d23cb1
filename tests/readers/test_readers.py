"""The archive readers on the fixtures of tests/fixtures/archives and on bad input."""

from __future__ import annotations

import os
import shutil
import tracemalloc
from pathlib import Path

import pytest
from _helpers import ROOT

from icp_notify.models import Channel, RawMessage, ReadError
from icp_notify.readers import read_file, read_inputs
from icp_notify.readers.csvfile import read_csv
from icp_notify.readers.jsonl import read_jsonl
from icp_notify.readers.mail import read_eml, read_maildir, read_mbox
from icp_notify.readers.smsxml import SurrogateRepairStream, read_sms_xml
from icp_notify.readers.text import read_text

ARCHIVES = ROOT / "tests" / "fixtures" / "archives"
GENERIC = "您的备案信息已被变更"


def messages(items: list[RawMessage | ReadError]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def errors(items: list[RawMessage | ReadError]) -> list[ReadError]:
    return [i for i in items if isinstance(i, ReadError)]


def test_text_one_per_line_and_blank_split() -> None:
    lines = list(read_text(ARCHIVES / "notices.txt"))
    assert [m.source.line for m in messages(lines) if m.source] == [1, 2, 4]
    blank = messages(list(read_text(ARCHIVES / "notices_blank.txt", split="blank")))
    assert len(blank) == 3
    assert blank[1].text == "【示例云】尊敬的用户：\n您的网站 example-shop.cn 已完成取消接入。"


def test_jsonl_invalid_utf8_and_invalid_json_are_error_rows_and_nothing_is_lost() -> None:
    items = list(read_jsonl(ARCHIVES / "notices.jsonl"))
    assert [type(i).__name__ for i in items] == [
        "RawMessage",
        "ReadError",
        "RawMessage",
        "ReadError",
        "RawMessage",
    ]
    bad = errors(items)
    assert [(e.code, e.source.line if e.source else None) for e in bad] == [
        ("undecodable", 2),
        ("invalid_json", 4),
    ]
    good = messages(items)
    assert [m.source.message_id for m in good if m.source] == ["j1", "j3", "j4"]
    assert good[1].channel is Channel.SMS
    assert good[2].context is not None
    assert good[2].context.operations[0].provider == "示例云"


def test_jsonl_text_field_option(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"msg_text": "备案已通过", "text": "ignored"}\n{"other": 1}\n', encoding="utf-8")
    items = list(read_jsonl(p, text_field="msg_text"))
    assert isinstance(items[0], RawMessage)
    assert items[0].text == "备案已通过"
    assert isinstance(items[1], ReadError)
    assert items[1].code == "missing_text"


@pytest.mark.parametrize("name", ["phone_export.csv", "phone_export_gb18030.csv"])
def test_csv_utf8_bom_and_gb18030(name: str) -> None:
    items = list(read_csv(ARCHIVES / name))
    assert not errors(items)
    got = messages(items)
    assert [m.sender for m in got] == ["12381", "10690000123"]
    assert GENERIC in got[0].text
    assert got[0].received_at is not None
    assert got[0].received_at.isoformat() == "2025-03-04T09:12:00+08:00"


def test_csv_wrong_column_count_is_an_error_row() -> None:
    items = list(read_csv(ARCHIVES / "bad_columns.csv"))
    assert [type(i).__name__ for i in items] == ["RawMessage", "ReadError", "RawMessage"]
    bad = errors(items)[0]
    assert bad.code == "bad_row"
    assert bad.source is not None
    assert bad.source.line == 3


def test_csv_without_text_column(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    assert [e.code for e in errors(list(read_csv(p)))] == ["missing_text"]


def test_sms_backup_received_only_surrogates_and_mms_text() -> None:
    got = messages(list(read_sms_xml(ARCHIVES / "sms_backup.xml")))
    assert [m.sender for m in got] == ["12381", "10690000123", "10690000999"]
    assert got[1].text.endswith("😆")
    assert got[2].text.startswith("【示例云】您的备案申请")
    assert "smil" not in got[2].text
    assert all(m.channel is Channel.SMS for m in got)
    with_sent = messages(list(read_sms_xml(ARCHIVES / "sms_backup.xml", include_sent=True)))
    assert len(with_sent) == 4
    assert with_sent[1].text == "好的，收到"


def test_truncated_xml_keeps_messages_before_the_cut() -> None:
    items = list(read_sms_xml(ARCHIVES / "truncated.xml"))
    assert len(messages(items)) == 1
    assert [e.code for e in errors(items)] == ["xml_truncated"]
    assert isinstance(items[-1], ReadError)
    assert items[-1].position is not None


@pytest.mark.parametrize("name", ["bomb.xml", "external_entity.xml"])
def test_entity_expansion_and_external_entities_are_refused(name: str) -> None:
    items = list(read_sms_xml(ARCHIVES / name))
    assert [(type(i).__name__, getattr(i, "code", "")) for i in items] == [
        ("ReadError", "xml_forbidden")
    ]


def test_surrogate_repair_across_chunk_boundaries() -> None:
    import io

    from icp_notify.readers import smsxml

    ref = b"&#55357;&#56838;"
    for pad in range(len(ref) + 2):
        data = b"x" * (smsxml._CHUNK - pad) + ref + b"&#xD83D;y"
        out = SurrogateRepairStream(io.BytesIO(data)).read()
        assert out == b"x" * (smsxml._CHUNK - pad) + b"&#128518;&#65533;y"


def test_mbox_undoes_from_escaping_and_reads_every_message() -> None:
    got = messages(list(read_mbox(ARCHIVES / "inbox.mbox")))
    assert len(got) == 2
    assert "\nFrom now on" in got[0].text
    assert ">From" not in got[0].text
    assert got[0].channel is Channel.EMAIL
    assert got[0].sender == "noreply@example-cloud.com"


def test_eml_and_maildir() -> None:
    eml = messages(list(read_eml(ARCHIVES / "notice.eml")))
    assert len(eml) == 1
    assert GENERIC in eml[0].text
    box = messages(list(read_maildir(ARCHIVES / "maildir")))
    assert [m.sender for m in box] == ["noreply@example-cloud.com", "beian@example-miit.cn"]


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


def _write_big_backup(path: Path, messages_count: int, image_bytes: int) -> int:
    import base64

    image = base64.b64encode(os.urandom(image_bytes)).decode()
    written = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<smses count="{messages_count}">\n')
        for i in range(messages_count):
            if i % 2:
                fh.write(
                    f'<mms date="{1741050720000 + i * 1000}" msg_box="1" address="1069{i:07d}"><parts>'
                    f'<part ct="image/jpeg" data="{image}"/>'
                    f'<part ct="text/plain" text="【示例云】您的网站 s{i}.example.cn 已完成取消接入&#55357;&#56838;"/>'
                    "</parts></mms>\n"
                )
            else:
                fh.write(
                    f'<sms address="12381" date="{1741050720000 + i * 1000}" type="1" '
                    f'body="尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。{i}"/>\n'
                )
            written += 1
        fh.write("</smses>\n")
    return written


@pytest.mark.slow
def test_big_backup_with_base64_images_memory_is_flat(tmp_path: Path) -> None:
    small, big = tmp_path / "small.xml", tmp_path / "big.xml"
    _write_big_backup(small, 40, 100_000)
    total = _write_big_backup(big, 400, 100_000)
    assert big.stat().st_size > 25_000_000

    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        count = sum(1 for i in read_sms_xml(path) if isinstance(i, RawMessage))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return count, top

    n_small, peak_small = peak(small)
    n_big, peak_big = peak(big)
    assert n_small == 40
    assert n_big == total
    # ten times the data, about the same peak (one message's image at a time)
    assert peak_big < 2 * peak_small + 1_000_000
    assert peak_big < 5_000_000
