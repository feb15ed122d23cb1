"""Inputs that raised from the readers (found by mutating the fixture archives): each now
reads as messages or as a structured error row, never a traceback.

* an SMS backup declaring an encoding expat cannot read itself (GBK, GB18030, Big5: Chinese
  phone backup tools write them) is transcoded and read like its UTF-8 twin; an encoding
  nobody knows is an ``xml_error`` row;
* an e-mail header whose RFC 2047 encoded word is corrupt (bad base64) is kept as written,
  with a ``bad_header_encoding`` defect.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from _helpers import ARCHIVES, errors, messages

from icp_notify.readers import read_file
from icp_notify.readers.email import decode_header_value
from icp_notify.readers.smsxml import TranscodeStream, declared_encoding, read_sms_xml

_UTF8 = (ARCHIVES / "sms_backup.xml").read_text("utf-8")


def _declaring(tmp_path: Path, label: str, codec: str) -> Path:
    text = re.sub(r'encoding="[^"]*"', f'encoding="{label}"', _UTF8, count=1)
    path = tmp_path / f"backup_{label}.xml"
    path.write_bytes(text.encode(codec, errors="xmlcharrefreplace"))
    return path


def _fields(path: Path) -> list[tuple[object, ...]]:
    got = messages(list(read_sms_xml(path, include_sent=True)))
    return [(m.text, m.sender, m.received_at, m.subject) for m in got]


@pytest.mark.parametrize(
    ("label", "codec"),
    [("GBK", "gbk"), ("gb2312", "gb18030"), ("GB18030", "gb18030"), ("Big5", "big5")],
)
def test_a_backup_in_a_multibyte_encoding_reads_like_its_utf8_twin(
    tmp_path: Path, label: str, codec: str
) -> None:
    path = _declaring(tmp_path, label, codec)
    assert path.read_bytes() != (ARCHIVES / "sms_backup.xml").read_bytes()
    assert _fields(path) == _fields(ARCHIVES / "sms_backup.xml")
    assert not errors(list(read_file(path)))


def test_a_backup_declaring_an_unknown_encoding_is_one_error_row(tmp_path: Path) -> None:
    path = _declaring(tmp_path, "UT", "utf-8")
    items = list(read_file(path))
    assert messages(items) == []
    [err] = errors(items)
    assert err.code == "xml_error"
    assert "unknown encoding 'UT'" in err.message


def test_utf8_latin1_and_undeclared_backups_are_read_by_expat_as_before(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xml"
    plain.write_text(re.sub(r"<\?xml[^>]*\?>\s*", "", _UTF8, count=1), encoding="utf-8")
    assert _fields(plain) == _fields(ARCHIVES / "sms_backup.xml")
    assert declared_encoding(plain.read_bytes()[:256]) is None
    assert declared_encoding((ARCHIVES / "sms_backup.xml").read_bytes()[:256]) == "UTF-8"


def test_the_transcoder_rewrites_only_the_declaration_and_keeps_chunk_edges() -> None:
    body = "备案" * 40_000  # well over one chunk, so multi-byte characters straddle reads
    data = f'<?xml version="1.0" encoding="gbk"?><a t="{body}" u="encoding=\'gbk\'"/>'
    out = TranscodeStream(io.BytesIO(data.encode("gbk")), "gbk").read().decode("utf-8")
    assert out == data.replace('encoding="gbk"', 'encoding="UTF-8"', 1)
    bad = TranscodeStream(io.BytesIO(b'<?xml encoding="gbk"?><a t="\x81"/>'), "gbk").read()
    assert bad.decode("utf-8") == '<?xml encoding="UTF-8"?><a t="\ufffd"/>'


def test_a_corrupt_encoded_word_in_a_header_is_kept_with_a_defect(tmp_path: Path) -> None:
    value, defects = decode_header_value("=?utf-8?b?5aSH5qGI5bey5Y+W5raI5o6l5YWl5?= ok")
    assert value.startswith("=?utf-8?b?")
    assert value.endswith("ok")
    assert [d.code for d in defects] == ["bad_header_encoding"]
    eml = tmp_path / "notice.eml"
    eml.write_bytes(
        b"From: noc@cloud.example\r\nSubject: =?utf-8?b?5aSH5qGI5bey5Y+W5raI5o6l5YWl5?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "您的网站已取消接入。".encode()
    )
    [message] = messages(list(read_file(eml)))
    assert message.text.strip() == "您的网站已取消接入。"
    assert message.subject is not None
    assert message.subject.startswith("=?utf-8?b?")
    assert "bad_header_encoding" in [d.code for d in message.defects]
