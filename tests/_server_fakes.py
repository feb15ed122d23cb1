"""A fake pipeline for the service's tests (imported as ``from _server_fakes import …``).

``icp-notify serve`` in a test process loads it too: ``ICP_NOTIFY_PIPELINE=_server_fakes:FakePipeline``
with ``tests/`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import datetime as dt
import threading

from icp_notify.models import (
    Action,
    Advice,
    Channel,
    Classification,
    Context,
    Kind,
    Notice,
    Report,
    Situation,
    Urgency,
)

TOKEN = "s3cret-token"
SECRET = "SECexample"
GENERIC = "【工信部】尊敬的用户王**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
PROVIDER_ACCESS = "【云栈科技】尊敬的用户，您的网站 shop-demo.cn 接入备案已审核通过，已成功接入。"


class FakePipeline:
    """Keyword classifier standing in for the real pipeline; records the contexts it saw."""

    def __init__(self, version: str = "fake-1") -> None:
        self.version = version
        self.contexts: list[Context | None] = []
        self.threads: list[str] = []
        self.lock = threading.Lock()

    def analyze(
        self,
        data: str,
        *,
        channel: Channel | None = None,
        sender: str | None = None,
        received_at: dt.datetime | None = None,
        context: Context | None = None,
        now: dt.datetime | None = None,
        lang: str = "zh",
    ) -> Report:
        with self.lock:
            self.contexts.append(context)
            self.threads.append(threading.current_thread().name)
        text = data.split("\n")[1] if data.startswith("12381\n") else data
        if "已被变更" in text:
            ops = context.operations if context else ()
            prior = context.previous_notices if context else ()
            if any(o.kind == Situation.ACCESS_DOMAIN for o in ops) and any(
                "接入备案已审核通过" in p.text for p in prior
            ):
                situation: Situation | None = Situation.ACCESS_CANCELLED
            else:
                situation = None
            kind = Kind.CHANGE_NOTICE_GENERIC
        elif "接入备案已审核通过" in text:
            situation, kind = Situation.ACCESS_DOMAIN, Kind.PROVIDER_ACCESS_DOMAIN
        else:
            situation, kind = Situation.OTHER, Kind.UNRELATED
        if situation is None:
            cls = Classification(
                situation=None,
                ambiguous=True,
                candidates=(Situation.ACCESS_CANCELLED, Situation.NEW_DOMAIN),
                confidence=0.4,
                probabilities=dict.fromkeys(Situation, 0.2),
                kind=kind,
                model_version=self.version,
            )
            urgency = Urgency.HIGH
        else:
            cls = Classification(
                situation=situation,
                ambiguous=False,
                candidates=(situation,),
                confidence=0.9,
                probabilities={s: (0.9 if s == situation else 0.025) for s in Situation},
                kind=kind,
                model_version=self.version,
            )
            urgency = Urgency.CRITICAL if situation == Situation.ACCESS_CANCELLED else Urgency.INFO
        notice = Notice(
            raw_text=data,
            text=text,
            channel=channel or Channel.UNKNOWN,
            sender=sender,
            received_at=received_at,
        )
        advice = Advice(action=Action.NONE, urgency=urgency, lang=lang, summary="fake")  # type: ignore[arg-type]
        return Report(notice=notice, classification=cls, advice=advice, version="test")
