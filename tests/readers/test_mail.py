"""The mailbox readers (icp_notify.readers.mail): mbox, a single .eml, Maildir."""

from __future__ import annotations

from _helpers import ARCHIVES, messages

from icp_notify.models import Channel
from icp_notify.readers.mail import read_eml, read_maildir, read_mbox

GENERIC = "您的备案信息已被变更"


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
