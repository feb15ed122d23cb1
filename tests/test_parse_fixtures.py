"""The SMS fixtures (tests/fixtures/sms/cases.jsonl) and e-mail fixtures (tests/fixtures/email/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from icp_notify.models import Channel, Notice, SenderType
from icp_notify.normalize import normalize_text
from icp_notify.parse import parse
from icp_notify.readers.email import read_email

FIXTURES = Path(__file__).parent / "fixtures"
SMS_CASES = [
    json.loads(line)
    for line in (FIXTURES / "sms" / "cases.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


_LISTS: dict[str, Callable[[Notice], list[Any]]] = {
    "icp": lambda n: [x.canonical for x in n.entities.icp_numbers],
    "licences": lambda n: [x.text for x in n.entities.licences],
    "psb": lambda n: [x.number for x in n.entities.public_security_numbers],
    "domains": lambda n: [x.name for x in n.entities.domains],
    "domains_ascii": lambda n: [x.ascii for x in n.entities.domains],
    "ips": lambda n: [x.address for x in n.entities.ips],
    "providers": lambda n: [x.name for x in n.entities.providers],
    "provider_aliases": lambda n: [x.alias for x in n.entities.providers],
    "codes": lambda n: [x.code for x in n.entities.codes],
    "urls": lambda n: [x.url for x in n.entities.urls],
    "hosts": lambda n: [x.host for x in n.entities.urls],
    "durations": lambda n: [[x.text, x.seconds, x.within] for x in n.entities.durations],
    "phones": lambda n: list(n.entities.phones),
    "dates": lambda n: [
        [
            x.text,
            x.value.isoformat() if x.value else None,
            x.time.isoformat() if x.time else None,
        ]
        for x in n.entities.dates
    ],
}
"""Expectation keys read as a list from the notice's entities."""


def check_expectations(notice: Notice, expect: dict[str, Any]) -> None:
    """Compare a Notice with an expectation dict (only the keys given are checked)."""
    for key, want in expect.items():
        if key in {"text", "signature", "opt_out", "sender", "subject", "sender_provider"}:
            got: Any = getattr(notice, key)
        elif key in {"sender_type", "channel"}:
            got = getattr(notice, key).value
        elif key == "recipient":
            got = (
                None
                if notice.recipient is None
                else [notice.recipient.name, notice.recipient.masked]
            )
        elif key == "forward":
            assert notice.forward is not None, "expected a forwarding wrapper"
            got = {k: getattr(notice.forward, k) for k in want}
        elif key == "icp_fields":
            got = [
                {k: getattr(n, k) for k in w}
                for n, w in zip(notice.entities.icp_numbers, want, strict=False)
            ]
        elif key in _LISTS:
            got = _LISTS[key](notice)
        elif key == "defects":
            codes = {d.code for d in notice.defects}
            assert set(want) <= codes, f"defects {sorted(codes)} lack {want}"
            continue
        else:  # pragma: no cover - a typo in a fixture
            raise AssertionError(f"unknown expectation key {key!r}")
        assert got == want, f"{key}: got {got!r}, want {want!r}"


def check_invariants(notice: Notice) -> None:
    """What holds for every Notice: normalised text, spans, JSON round trip."""
    assert notice.text == normalize_text(notice.text)
    for number in notice.entities.icp_numbers:
        if number.span is not None:
            assert notice.text[number.span[0] : number.span[1]] == number.text
    assert Notice.model_validate_json(notice.model_dump_json()) == notice


@pytest.mark.parametrize("case", SMS_CASES, ids=[c["id"] for c in SMS_CASES])
def test_sms_fixture(case: dict[str, Any]) -> None:
    notice = parse(
        case["text"],
        sender=case.get("sender"),
        channel=case.get("channel"),
        received_at=case.get("received_at", "2025-03-05T10:00:00+08:00"),
    )
    check_expectations(notice, case["expect"])
    check_invariants(notice)


def test_sms_fixture_count_and_coverage() -> None:
    assert len(SMS_CASES) >= 40
    covered = {c for case in SMS_CASES for c in case["covers"]}
    for rule in (
        "fullwidth_icp", "masked_name", "traditional", "smsforwarder", "json_forward",
        "public_security_only", "zero_width", "opt_out_r", "idn", "phone_masked",
    ):  # fmt: skip
        assert rule in covered, rule


def test_sms_fixture_bytes_gb18030_same_notice() -> None:
    """The same SMS as GB18030 bytes parses to the same text and entities."""
    case = SMS_CASES[0]
    from_text = parse(case["text"])
    from_bytes = parse(case["text"].encode("gb18030"))
    assert from_bytes.text == from_text.text
    assert from_bytes.entities == from_text.entities
    assert from_bytes.defects == ()


def test_sms_channel_inferred_from_numeric_sender() -> None:
    assert parse("您的备案已通过。", sender="10690000123").channel is Channel.SMS
    assert parse("您的备案已通过。").channel is Channel.UNKNOWN
    assert parse("您的备案已通过。", sender="12381").sender_type is SenderType.MIIT


EMAIL_DIR = FIXTURES / "email"
EMAIL_EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (EMAIL_DIR / "expected.json").read_text("utf-8")
)


@pytest.mark.parametrize("name", sorted(EMAIL_EXPECTED))
def test_email_fixture(name: str) -> None:
    spec = EMAIL_EXPECTED[name]
    data = (EMAIL_DIR / name).read_bytes()
    raw = read_email(data)
    notice = parse(data)
    assert parse(raw) == notice  # bytes and the reader's RawMessage give the same Notice
    check_expectations(notice, spec["expect"])
    check_invariants(notice)
    assert notice.channel is Channel.EMAIL
    assert notice.received_at is not None
    assert notice.received_at.isoformat() == spec["received_at"]
    assert (notice.source.message_id if notice.source else None) == spec["message_id"]
    assert sorted({d.code for d in notice.defects}) == sorted(spec["defect_codes"])
    if "undecodable_bytes" not in spec["defect_codes"]:
        assert "\ufffd" not in notice.text
        assert "\ufffd" not in (notice.subject or "")


def test_email_fixtures_are_reproducible() -> None:
    """The committed .eml files are exactly what make_fixtures.py writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", EMAIL_DIR / "make_fixtures.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.fixtures()
    assert set(generated) == set(EMAIL_EXPECTED)
    for name, data in generated.items():
        assert (EMAIL_DIR / name).read_bytes() == data, name


def test_gb2312_label_keeps_gbk_only_character() -> None:
    """镕 is GBK, not GB2312: the stdlib alone would turn it into U+FFFD."""
    data = (EMAIL_DIR / "02_gb2312_label_gbk_bytes.eml").read_bytes()
    import email as stdlib_email
    from email import policy

    naive = stdlib_email.message_from_bytes(data, policy=policy.default)
    assert "镕" not in str(naive["Subject"])  # the trap this reader avoids
    raw = read_email(data)
    assert "镕" in (raw.subject or "")
    assert "镕" in raw.text
    assert raw.defects == ()


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02 not mail at all", b"just a line of text", b"\x89PNG\r\n\x1a\n\x00\x00"],
)
def test_read_email_refuses_non_messages(data: bytes) -> None:
    from icp_notify.errors import InputError

    with pytest.raises(InputError) as info:
        read_email(data)
    assert info.value.code == "not_a_message"
