"""The SMS backup reader (icp_notify.readers.smsxml): safe XML, surrogates, MMS, flat memory."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from _helpers import ARCHIVES, errors, messages

from icp_notify.models import Channel, RawMessage, ReadError
from icp_notify.readers.smsxml import SurrogateRepairStream, read_sms_xml


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
