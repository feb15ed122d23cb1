"""Fakes shared by the advisor and pipeline tests (no trained model needed)."""

from __future__ import annotations

import datetime as dt

from icp_notify.models import (
    CHANGE_SITUATIONS,
    KIND_SITUATION,
    Classification,
    Context,
    DateMention,
    Decider,
    Domain,
    DurationMention,
    Entities,
    IcpNumber,
    Kind,
    Notice,
    ProviderMention,
    Situation,
)


def decided(
    kind: Kind, situation: Situation | None = None, *, by: tuple[Decider, ...] = (Decider.RULES,)
) -> Classification:
    """A decided classification of ``kind`` (situation from KIND_SITUATION unless given)."""
    sit = situation if situation is not None else KIND_SITUATION[kind]
    assert sit is not None
    return Classification(
        situation=sit,
        ambiguous=False,
        candidates=(sit,),
        confidence=0.96,
        probabilities={s: (0.96 if s is sit else 0.01) for s in Situation},
        kind=kind,
        decided_by=by,
    )


def ambiguous(candidates: tuple[Situation, ...] = CHANGE_SITUATIONS) -> Classification:
    """The generic notice, undecided over ``candidates`` (in the classifier's likelihood order)."""
    share = 1.0 / len(candidates)
    return Classification(
        situation=None,
        ambiguous=True,
        candidates=candidates,
        confidence=share,
        probabilities={s: (share if s in candidates else 0.0) for s in Situation},
        kind=Kind.CHANGE_NOTICE_GENERIC,
        decided_by=(Decider.RULES,),
    )


def notice(
    text: str = "尊敬的用户张**,您的备案信息已被变更,详情请咨询您的接入服务提供商。",
    *,
    received_at: str | dt.datetime | None = "2025-03-04T09:12:00+08:00",
    provider: str | None = None,
    domain: str | None = None,
    number: str | None = None,
    dates: tuple[DateMention, ...] = (),
    durations: tuple[DurationMention, ...] = (),
) -> Notice:
    """A parsed-looking notice with the given entities."""
    numbers: tuple[IcpNumber, ...] = ()
    if number is not None:
        province, rest = number[0], number[5:]
        digits, _, site = rest.partition("号")
        numbers = (
            IcpNumber(
                text=number,
                province=province,
                record_type="备",
                number=digits,
                site=int(site.lstrip("-")) if site else None,
            ),
        )
    return Notice(
        raw_text=text,
        text=text,
        received_at=received_at,
        entities=Entities(
            providers=(ProviderMention(name=provider, alias=provider),) if provider else (),
            domains=(Domain(name=domain, ascii=domain),) if domain else (),
            icp_numbers=numbers,
            dates=dates,
            durations=durations,
        ),
    )


class FakeClassifier:
    """Classifies by a keyword table; records what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[Notice, Context | None]] = []

    def classify_notice(self, notice: Notice, context: Context | None = None) -> Classification:
        self.calls.append((notice, context))
        text = notice.text
        if "已被变更" in text and "http" not in text:
            if context is not None and context.operations:
                return decided(
                    Kind.CHANGE_NOTICE_GENERIC,
                    context.operations[0].kind,
                    by=(Decider.RULES, Decider.CONTEXT),
                )
            return ambiguous()
        table = [
            ("核验", Kind.VERIFICATION_CODE),
            ("核查", Kind.CHECK_REQUEST),
            ("取消接入", Kind.PROVIDER_ACCESS_CANCELLED),
            ("新增网站", Kind.PROVIDER_NEW_DOMAIN),
            ("http", Kind.PHISHING),
        ]
        for word, kind in table:
            if word in text:
                return decided(kind)
        return decided(Kind.UNRELATED)
