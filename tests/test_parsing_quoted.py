"""Quoted-reply unwrapping keeps a notice that merely contains ``>`` lines."""

from __future__ import annotations

import mailbox
from pathlib import Path

import icp_notify
from icp_notify.models import RawMessage
from icp_notify.normalize import normalize
from icp_notify.parse import parse

CANCELLED = "【阿里云】您的网站 lvshan-tea.cn 已完成取消接入。"
MAIL = (
    "From: notice@example-cloud.cn\n"
    "To: owner@lvshan-tea.cn\n"
    "Subject: =?utf-8?b?5Y+W5raI5o6l5YWl6YCa55+l?=\n"
    "Date: Wed, 05 Mar 2025 10:00:00 +0800\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "尊敬的用户，您的网站 lvshan-tea.cn 已完成取消接入，备案号 浙ICP备2031000456号-1。\n"
    ">From the console you can file the access again at a new provider.\n"
)


def test_quote_line_inside_a_notice_is_kept() -> None:
    notice = parse(CANCELLED + "\n> quoted line")
    assert notice.forward is None
    assert notice.text == "您的网站 lvshan-tea.cn 已完成取消接入。\n> quoted line"
    assert icp_notify.analyze(CANCELLED + "\n> quoted line").classification.situation == (
        "access_cancelled"
    )


def test_quoted_notice_under_a_plain_note_is_unwrapped() -> None:
    norm = normalize("帮我看看这条是什么意思\n> " + CANCELLED)
    assert norm.forward is not None
    assert norm.forward.wrapper == "quoted_reply"
    assert norm.body == "您的网站 lvshan-tea.cn 已完成取消接入。"


def test_attribution_line_still_unwraps_even_with_filing_words_around() -> None:
    text = (
        "这条备案短信我收到了\n在 2025年3月8日 09:00,阿里云 <notice@example-cloud.cn> 写道:\n> "
        + CANCELLED
    )
    norm = normalize(text)
    assert norm.forward is not None
    assert norm.forward.original_sender == "notice@example-cloud.cn"
    assert "这条备案短信" not in norm.body


def test_maildir_message_with_escaped_from_line_stays_access_cancelled(tmp_path: Path) -> None:
    from icp_notify.readers.mail import read_maildir

    folder = tmp_path / "Mail"
    mailbox.Maildir(folder, create=True).add(MAIL.encode())
    (raw,) = list(read_maildir(folder))
    assert isinstance(raw, RawMessage)
    report = icp_notify.analyze(raw)
    assert report.classification.situation == "access_cancelled"
    assert "取消接入" in report.notice.text


def test_mbox_message_with_quoted_from_line_stays_access_cancelled(tmp_path: Path) -> None:
    from icp_notify.readers.mail import read_mbox

    path = tmp_path / "inbox.mbox"
    # mboxrd: the body line ">From the console" is stored as ">>From the console"
    body = MAIL.replace("\n>From ", "\n>>From ")
    path.write_bytes(b"From notice@example-cloud.cn Wed Mar  5 10:00:00 2025\n" + body.encode())
    (raw,) = list(read_mbox(path))
    assert isinstance(raw, RawMessage)
    assert ">From the console" in raw.text
    report = icp_notify.analyze(raw)
    assert report.classification.situation == "access_cancelled"
