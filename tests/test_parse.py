"""parse(): inputs, errors, decoding, sender typing, channel inference; the icp-notify parse
command."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest

import icp_notify.parse as parse_module
from icp_notify.cli import main
from icp_notify.entities import extract, provider_aliases, provider_table
from icp_notify.errors import InputError
from icp_notify.models import Channel, Notice, RawMessage, SenderType
from icp_notify.parse import SMS_SIGNED_MAX_CHARS, decode_bytes, parse

GENERIC = "【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


@pytest.mark.parametrize("data", ["", "   ", "\n\t\u3000", "\u200b\u200d\ufeff", b"", b"  \r\n"])
def test_empty_input_is_an_input_error(data: str | bytes) -> None:
    with pytest.raises(InputError) as info:
        parse(data)
    assert info.value.code == "empty"


@pytest.mark.parametrize("data", [None, 42, ["备案"], {"text": "备案"}, 3.5])
def test_wrong_type_is_not_a_message(data: object) -> None:
    with pytest.raises(InputError) as info:
        parse(data)  # type: ignore[arg-type]
    assert info.value.code == "not_a_message"


def test_size_caps_are_explicit_and_configurable() -> None:
    text = "备案" * (parse_module.MAX_TEXT_CHARS // 2 + 1)
    with pytest.raises(InputError) as info:
        parse(text)
    assert info.value.code == "too_large"
    assert parse(text, max_chars=len(text)).text.startswith("备案备案")
    with pytest.raises(InputError) as info:
        parse("您的备案已通过", max_chars=3)
    assert info.value.code == "too_large"


def test_email_byte_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_EMAIL_BYTES", 100)
    with pytest.raises(InputError) as info:
        parse(b"x" * 101)
    assert info.value.code == "too_large"


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (codecs.BOM_UTF8 + GENERIC.encode("utf-8"), "utf-8 BOM"),
        (codecs.BOM_UTF16_LE + GENERIC.encode("utf-16-le"), "utf-16-le BOM"),
        (codecs.BOM_UTF16_BE + GENERIC.encode("utf-16-be"), "utf-16-be BOM"),
        (GENERIC.encode("utf-8"), "utf-8"),
        (GENERIC.encode("gb18030"), "gb18030"),
        (GENERIC.encode("gbk"), "gbk"),
    ],
)
def test_bytes_are_sniffed(encoded: bytes, label: str) -> None:
    notice = parse(encoded)
    assert notice.text == parse(GENERIC).text, label
    assert notice.defects == ()


def test_undecodable_bytes_are_recorded_never_silent() -> None:
    data = "【阿里云】您的备案".encode() + b"\xff\xfe\xfd" + "已通过。".encode()
    notice = parse(data)
    assert notice.text == "您的备案\ufffd已通过。"
    bad = [d for d in notice.defects if d.code == "undecodable_bytes"]
    assert len(bad) == 1
    assert bad[0].position == notice.raw_text.index("\ufffd")


def test_mostly_garbage_bytes_are_undecodable() -> None:
    with pytest.raises(InputError) as info:
        parse(b"\xff" * 64 + "备案".encode())
    assert info.value.code == "undecodable"


def test_package_parse_stays_callable_after_submodule_import() -> None:
    import icp_notify

    assert icp_notify.parse(GENERIC).signature == "工信部"
    assert parse_module.parse(GENERIC) == icp_notify.parse(GENERIC)


def test_decode_bytes_prefers_utf8_then_gb18030() -> None:
    assert decode_bytes("接入".encode()) == ("接入", ())
    assert decode_bytes("接入".encode("gb18030")) == ("接入", ())


def test_str_with_replacement_character_is_flagged() -> None:
    notice = parse("您的备案\ufffd已通过")
    assert [d.code for d in notice.defects] == ["replacement_character"]


def test_lone_surrogates_are_replaced_and_json_safe() -> None:
    notice = parse("您的备案\ud800已通过")
    assert "lone_surrogate" in {d.code for d in notice.defects}
    assert Notice.model_validate_json(notice.model_dump_json()) == notice


def test_received_at_naive_is_shanghai_and_iso_strings_are_accepted() -> None:
    naive = parse(GENERIC, received_at=dt.datetime(2025, 3, 1, 10, 0))
    assert naive.received_at is not None
    assert naive.received_at.utcoffset() == dt.timedelta(hours=8)
    iso = parse(GENERIC, received_at="2025-03-01T02:00:00Z")
    assert iso.received_at == naive.received_at
    with pytest.raises(InputError) as info:
        parse(GENERIC, received_at="yesterday")
    assert info.value.code == "invalid_field"


def test_channel_argument_and_inference() -> None:
    assert parse(GENERIC, channel="sms").channel is Channel.SMS
    assert parse(GENERIC, channel=Channel.EMAIL).channel is Channel.EMAIL
    with pytest.raises(InputError) as info:
        parse(GENERIC, channel="fax")
    assert info.value.code == "invalid_field"
    raw = RawMessage(text="您的备案已通过", subject="备案通知", sender="a@example.cn")
    assert parse(raw).channel is Channel.EMAIL


def test_raw_message_fields_reach_the_notice() -> None:
    raw = RawMessage(
        text=GENERIC,
        channel=Channel.SMS,
        sender="12381",
        received_at="2025-03-01T10:00:00",
        source={"file": "inbox.xml", "index": 3},
    )
    notice = parse(raw)
    assert notice.sender == "12381"
    assert notice.sender_type is SenderType.MIIT
    assert notice.source is not None
    assert notice.source.index == 3
    assert parse(raw, sender="10690000123").sender == "10690000123"


@pytest.mark.parametrize(
    ("text", "sender", "sender_type", "provider"),
    [
        (GENERIC, None, SenderType.MIIT, None),
        ("您的备案信息已被变更。", "12381", SenderType.MIIT, None),
        ("您的备案信息已被变更。", "+86 12381", SenderType.MIIT, None),
        ("您的备案信息已被变更。", "ICP@MIIT.GOV.CN", SenderType.MIIT, None),
        ("【阿里云备案】您的备案已通过。", None, SenderType.PROVIDER, "阿里云"),
        ("【DNSPod】您的备案已通过。", None, SenderType.PROVIDER, "腾讯云"),
        ("您的备案已通过。", "notice@cloud.tencent.com", SenderType.PROVIDER, "腾讯云"),
        ("您的备案已通过。", "noreply@example-cloud.com", SenderType.UNKNOWN, None),
        ("【某某商城】您的订单已发货。", "10690000999", SenderType.UNKNOWN, None),
    ],
)
def test_sender_type(
    text: str, sender: str | None, sender_type: SenderType, provider: str | None
) -> None:
    notice = parse(text, sender=sender)
    assert notice.sender_type is sender_type
    assert notice.sender_provider == provider


def test_provider_aliases_from_data() -> None:
    aliases = provider_aliases()
    for alias, name in {
        "阿里云": "阿里云", "Aliyun": "阿里云", "Alibaba Cloud": "阿里云", "万网": "阿里云",
        "腾讯云": "腾讯云", "Tencent Cloud": "腾讯云", "DNSPod": "腾讯云", "华为云": "华为云",
        "Huawei Cloud": "华为云", "百度云": "百度智能云", "京东云": "京东云", "西部数码": "西部数码",
        "新网": "新网", "美橙互联": "美橙互联", "景安": "景安", "天翼云": "天翼云", "移动云": "移动云",
        "联通云": "联通云", "火山引擎": "火山引擎", "UCloud": "UCloud", "青云": "青云",
        "QingCloud": "青云", "35互联": "35互联",
    }.items():  # fmt: skip
        assert aliases[alias] == name, alias
    aliases["阿里云"] = "changed"  # a copy: the cached table is not affected
    assert provider_aliases()["阿里云"] == "阿里云"


def test_provider_table_cannot_be_changed_through_a_caller() -> None:
    # provider_table() is cached and shared: a caller writing into it would change every later parse
    table = provider_table()
    for mapping in (table.aliases, table.domains, table.guards):
        with pytest.raises(TypeError):
            mapping["万网"] = "changed"  # type: ignore[index]
    assert parse("【万网】您的备案已通过").sender_provider == "阿里云"


def test_public_security_number_is_never_an_icp_number() -> None:
    entities, _ = extract("京公网安备11010502000001号 沪公网安备 31010402001234号")
    assert entities.icp_numbers == ()
    assert [p.number for p in entities.public_security_numbers] == [
        "11010502000001",
        "31010402001234",
    ]
    assert entities.phones == ()


def test_regex_timeout_becomes_a_defect(monkeypatch: pytest.MonkeyPatch) -> None:
    import icp_notify.entities as ents

    monkeypatch.setattr(ents, "REGEX_TIMEOUT", 1e-9)
    text = "京ICP备12345678号 " + "a.b." * 20000
    entities, defects = ents.extract(text)
    assert any(d.code == "regex_timeout" for d in defects)
    assert isinstance(entities.icp_numbers, tuple)


def test_email_bytes_are_detected_and_read() -> None:
    data = (
        b"From: <beian@miit.gov.cn>\r\nSubject: =?utf-8?B?5aSH5qGI?=\r\n"
        b"Date: Sat, 01 Mar 2025 10:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + GENERIC.encode()
    )
    notice = parse(data)
    assert notice.channel is Channel.EMAIL
    assert notice.subject == "备案"
    assert notice.sender_type is SenderType.MIIT


def test_html_text_is_converted() -> None:
    notice = parse("<html><body><p>您的备案</p><p>已通过</p><script>x=1</script></body></html>")
    assert notice.text == "您的备案\n已通过"
    assert "html_converted" in {d.code for d in notice.defects}


# --------------------------------------------------------------------------- CLI


def _run_cli(args: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr = out, err
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        code = main(args)
    finally:
        sys.stdout, sys.stderr, sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_cli_parse_json_is_exactly_model_dump_json() -> None:
    code, out, _ = _run_cli(["parse", GENERIC, "--json", "--received-at", "2025-03-01T10:00"])
    assert code == 0
    expected = parse(GENERIC, received_at="2025-03-01T10:00").model_dump_json()
    assert out == expected + "\n"
    assert out.count("\n") == 1


def test_cli_parse_reads_stdin_and_prints_a_summary() -> None:
    code, out, _ = _run_cli(["parse", "-", "--sender", "12381"], stdin=GENERIC.encode("utf-8"))
    assert code == 0
    assert "sender type: miit" in out
    assert "张** (masked)" in out
    assert "您的备案信息已被变更" in out


def test_cli_parse_file_eml(tmp_path: Path) -> None:
    eml = Path(__file__).parent / "fixtures" / "email" / "02_gb2312_label_gbk_bytes.eml"
    code, out, _ = _run_cli(["parse", "--file", str(eml), "--json"])
    assert code == 0
    assert Notice.model_validate_json(out).subject == "关于朱镕的网站备案已通过"


def test_cli_parse_bad_input_exits_1() -> None:
    code, out, err = _run_cli(["parse", "   "])
    assert code == 1
    assert out == ""
    assert "code: empty" in err


def test_cli_parse_subprocess_stdin() -> None:
    """The real console entry point with `-` (stdin as bytes, not a tty)."""
    proc = subprocess.run(
        [sys.executable, "-m", "icp_notify.cli", "parse", "-", "--json"],
        input=GENERIC.encode("gb18030"),
        capture_output=True,
        check=True,
    )
    notice = Notice.model_validate_json(proc.stdout)
    assert notice.recipient is not None
    assert notice.recipient.name == "张**"


@pytest.mark.parametrize(
    "text",
    [
        "备案" + "，" * 30000 + "x",
        "<!--" * 8000 + "<p>x</p>",
        "> a\n" * 5000,
        "1" * 60000,
        "a." * 20000,
        "【" * 60000,
        "京ICP备" * 8000,
    ],
    ids=["commas", "html-comments", "quotes", "digits", "dots", "brackets", "icp-prefixes"],
)
def test_pathological_text_is_bounded(text: str) -> None:
    """Inputs that make naive patterns backtrack still give a Notice (or an InputError)."""
    notice = parse(text)
    assert notice.raw_text == text


# --------------------------------------------------------------------------- channel inference
# Text given without a channel: a 【signature】 marks an SMS.


SIGNED_HEAD = "【云栈科技】您的网站 shop-demo.cn 接入备案已审核通过，备案号保持不变。"

SIGNED_TAIL = "您的网站 shop-demo.cn 接入备案已审核通过，备案号保持不变。【云栈科技】"


@pytest.mark.parametrize("text", [SIGNED_HEAD, SIGNED_TAIL])
def test_a_short_signed_text_without_channel_is_an_sms(text: str) -> None:
    n = parse(text)
    assert n.channel is Channel.SMS
    assert n.signature == "云栈科技"


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("您的网站 shop-demo.cn 接入备案已审核通过。", {}),  # no signature: nothing to go on
        (SIGNED_HEAD, {"channel": "email"}),  # what the caller says wins
        (SIGNED_HEAD, {"sender": "beian@cloud.example"}),  # an e-mail sender says e-mail
        ("<p>【云栈科技】接入备案已审核通过</p>", {}),  # HTML is an e-mail body, not an SMS
    ],
)
def test_no_sms_guess_against_other_evidence(text: str, kwargs: dict[str, str]) -> None:
    assert parse(text, **kwargs).channel is not Channel.SMS


def test_a_subject_means_email_even_when_the_body_is_signed() -> None:
    n = parse(RawMessage(text=SIGNED_HEAD, subject="接入备案结果"))
    assert n.channel is Channel.EMAIL


def test_a_long_signed_text_stays_unknown() -> None:
    body = "您的网站 shop-demo.cn 接入备案已审核通过。" * (SMS_SIGNED_MAX_CHARS // 10)
    assert len(body) > SMS_SIGNED_MAX_CHARS
    assert parse("【云栈科技】" + body).channel is Channel.UNKNOWN
