"""A simulator of the ICP filing process, to score the context engine on generic notices.

Each simulated history is one filing over :data:`HISTORY_DAYS` days, with a fixed seed:

- it starts with a first filing at one provider (MIIT's first-filing notice, not generic);
- operations follow at random (a gap of :data:`MEAN_GAP_DAYS` days on average): ``new_domain``,
  ``modify_domain``, ``access_domain`` as a move to another provider or as an added provider
  (``keeps_previous_provider``), and provider-side events: a 整改 request (deadline 15 days),
  half of them overdue, after which the provider cancels its access 15–30 days after the request;
- each operation is approved after 1–20 days or rejected (退回: a provider notice, no generic
  notice); every approval emits MIIT's generic notice 0–7 h later and, with probability
  :data:`EXPLICIT_SHARE`, the provider's explicit notice 0–12 h after the approval (so before or
  after MIIT's);
- a move makes the old provider cancel its access 0–120 days after the move's generic notice
  (another generic notice, sometimes with the old provider's explicit 取消接入 notice).

The user records each of their operations with probability ``p``; every notice is kept. Every
generic notice is then replayed through :func:`icp_notify.classify` with the operations submitted
and the notices received before it, and scored against the truth:

``right``    decided, and right
``amb_in``   ambiguous, the truth among the candidates
``wrong``    decided, and wrong
``missing``  ambiguous, the truth not among the candidates

Examples
--------
>>> result = simulate(histories=5, seed=1, ps=(1.0,))
>>> row = result.rows[0]
>>> row.p, row.histories, row.right + row.amb_in + row.wrong + row.missing == row.generic
(1.0, 5, True)
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from icp_notify.models import (
    SHANGHAI,
    Classification,
    Context,
    Evidence,
    Notice,
    Operation,
    PriorNotice,
    Situation,
)

__all__ = [
    "EXPLICIT_SHARE",
    "HISTORY_DAYS",
    "MEAN_GAP_DAYS",
    "SimulationResult",
    "SimulationRow",
    "simulate",
]

HISTORY_DAYS = 730
"""How long each simulated filing lives (two years)."""

MEAN_GAP_DAYS = 120.0
"""The mean gap between two events of a filing (operations and 整改 requests)."""

EXPLICIT_SHARE = 0.5
"""How often a provider sends its own explicit notice of an approval or a cancellation."""

REJECT_SHARE = 0.1
"""How often a submitted operation is returned (退回) instead of approved."""

_EVENTS = (
    ("new_domain", 0.33),
    ("modify_domain", 0.33),
    ("move", 0.16),
    ("add_provider", 0.06),
    ("rectification", 0.12),
)
_PROVIDERS = ("阿里云", "腾讯云", "华为云", "西部数码", "京东云", "天翼云", "百度智能云")
_NAMES = ("张**", "李**", "王先生", "赵**", "陈**", "XX")
_GENERIC = (
    "尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    "【工信部】尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
)
_FIRST = "【工信部】尊敬的用户{name}，您的ICP备案申请已通过审核，备案号：{number}。"
_EXPLICIT = {
    "new_domain": "【{provider}】您的新增网站备案（{domain}）已通过管局审核。",
    "modify_domain": "【{provider}】您的变更备案（{domain}）已通过管局审核。",
    "access_domain": "【{provider}】您的网站 {domain} 接入备案已通过管局审核，已成功接入{provider}，备案号不变。",
    "cancel": "【{provider}】您的网站{domain}已取消接入，如需继续使用请重新办理接入备案。",
}
_REJECTED = "【{provider}】您的备案订单已被管局退回，请修改后重新提交。"
_RECTIFY = "【{provider}】您的备案信息核查未通过，请于15日内完成整改，逾期将取消接入。"
_START = dt.datetime(2024, 1, 1, 9, tzinfo=SHANGHAI)


class SimulationRow(BaseModel):
    """The score of the generic notices at one recording probability ``p``.

    Attributes
    ----------
    p : float
        Probability that the user records an operation.
    histories, generic : int
        Simulated filings; generic notices replayed.
    right, amb_in, wrong, missing : int
        Decided right; ambiguous with the truth among the candidates; decided wrong; ambiguous
        without the truth.

    Examples
    --------
    >>> row = SimulationRow(p=0.7, histories=10, generic=50, right=40, amb_in=9, wrong=1,
    ...     missing=0)
    >>> row.decided_share, row.wrong_share, row.truth_in_ambiguous_share
    (0.82, 0.02, 1.0)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    p: float
    histories: int
    generic: int
    right: int
    amb_in: int
    wrong: int
    missing: int

    @property
    def decided_share(self) -> float:
        """Share of generic notices decided (right or wrong)."""
        return (self.right + self.wrong) / self.generic if self.generic else 0.0

    @property
    def wrong_share(self) -> float:
        """Share of generic notices decided wrongly."""
        return self.wrong / self.generic if self.generic else 0.0

    @property
    def truth_in_ambiguous_share(self) -> float:
        """Share of ambiguous notices whose candidates hold the truth (1.0 when none)."""
        amb = self.amb_in + self.missing
        return self.amb_in / amb if amb else 1.0


class SimulationResult(BaseModel):
    """One row per recording probability.

    Examples
    --------
    >>> result = simulate(4, seed=2, ps=(1.0,))
    >>> result.seed, [r.p for r in result.rows], result.rows[0].wrong
    (2, [1.0], 0)
    >>> result.table().splitlines()[0].startswith("| p |")
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int
    rows: tuple[SimulationRow, ...] = Field(default=())

    def table(self) -> str:
        """The result as a Markdown table.

        Returns
        -------
        str
        """
        lines = [
            "| p | histories | generic notices | decided right | ambiguous, truth in"
            " | decided wrong | truth missing | decided | wrong | truth in ambiguous |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.p:.1f} | {r.histories} | {r.generic} | {r.right} | {r.amb_in} | {r.wrong}"
                f" | {r.missing} | {r.decided_share:.1%} | {r.wrong_share:.2%}"
                f" | {r.truth_in_ambiguous_share:.2%} |"
            )
        return "\n".join(lines)


@dataclass
class _History:
    operations: list[tuple[Operation, float]] = field(default_factory=list)  # (op, record draw)
    notices: list[tuple[PriorNotice, Situation | None]] = field(default_factory=list)


def _history(seed: int, index: int) -> _History:
    rng = random.Random(seed * 1_000_003 + index)
    h = _History()
    name = rng.choice(_NAMES)
    province = rng.choice("京沪粤浙苏川鄂")
    number = f"{province}ICP备{rng.randrange(2015, 2025)}{rng.randrange(10**5, 10**6)}号"
    provider = rng.choice(_PROVIDERS)
    domains = [f"site{index % 997}-{k}.example.cn" for k in range(12)]

    def at(days: float) -> dt.datetime:
        return _START + dt.timedelta(days=days)

    def notice(text: str, when: float, truth: Situation | None, sender: str) -> None:
        h.notices.append((PriorNotice(text=text, received_at=at(when), sender=sender), truth))

    def generic(when: float, truth: Situation) -> float:
        t = when + rng.uniform(0, 7) / 24
        notice(rng.choice(_GENERIC).format(name=name), t, truth, "12381")
        return t

    def explicit(key: str, when: float, prov: str, domain: str) -> None:
        if rng.random() < EXPLICIT_SHARE:
            text = _EXPLICIT[key].format(provider=prov, domain=domain)
            notice(text, when + rng.uniform(0, 12) / 24, None, "106900001234")

    notice(_FIRST.format(name=name, number=number), rng.uniform(0, 1), None, "12381")
    day = 0.0
    n_domain = 1
    while True:
        day += rng.expovariate(1 / MEAN_GAP_DAYS)
        if day > HISTORY_DAYS:
            break
        event = rng.choices([e for e, _ in _EVENTS], [w for _, w in _EVENTS])[0]
        if event == "rectification":
            notice(_RECTIFY.format(provider=provider), day, None, "106900001234")
            if rng.random() < 0.5:
                cancel = day + rng.uniform(15, 30)  # after the 15-day deadline, within two weeks
                generic(cancel, Situation.ACCESS_CANCELLED)
                explicit("cancel", cancel, provider, domains[0])
            continue
        submitted = day
        domain = domains[min(n_domain, len(domains) - 1)]
        if event == "new_domain":
            n_domain += 1
            op = Operation(
                kind="new_domain", submitted_at=at(submitted), domain=domain, provider=provider
            )
        elif event == "modify_domain":
            domain = domains[rng.randrange(n_domain)]
            op = Operation(
                kind="modify_domain", submitted_at=at(submitted), domain=domain, provider=provider
            )
        else:
            target = rng.choice([p for p in _PROVIDERS if p != provider])
            domain = domains[0]
            op = Operation(
                kind="access_domain",
                submitted_at=at(submitted),
                domain=domain,
                provider=target,
                from_provider=provider if rng.random() < 0.5 else None,
                keeps_previous_provider=event == "add_provider",
            )
        h.operations.append((op, rng.random()))
        review = rng.uniform(1, 20)
        approved = submitted + review
        prov = op.provider or provider
        if rng.random() < REJECT_SHARE:
            notice(_REJECTED.format(provider=prov), approved, None, "106900001234")
            continue
        sent = generic(approved, op.kind)
        explicit(op.kind.value, approved, prov, domain)
        if event == "move":
            cancel = sent + rng.uniform(0, 120)
            generic(cancel, Situation.ACCESS_CANCELLED)
            explicit("cancel", cancel, provider, domain)
            provider = prov
        day = max(day, approved)
    h.operations.sort(key=lambda item: item[0].submitted_at)
    h.notices.sort(key=lambda item: item[0].received_at)
    return h


class _Memo:
    """The shipped classifier with each notice's text evidence computed once per history.

    A history's notices are replayed at every p, and its earlier notices again at every later
    one; their rule matches, tokens and model probabilities do not depend on p or on the
    context, so they are kept (per notice object, each kept alive so its id is not reused)
    until the next history; and a notice whose recorded operations are the same at two p's
    (the same operation objects) has the same context, so its answer is reused. The classifications are the same as :func:`classify`'s
    (``tests/test_context_timeline.py`` compares them).
    """

    def __init__(self) -> None:
        from icp_notify.classifier import Classifier
        from icp_notify.rules import RuleSet

        base = Classifier.default()
        kept: dict[int, tuple[Notice, object]] = {}
        self.kept = kept
        self.answers: dict[tuple[int, tuple[int, ...]], Classification] = {}

        class _Rules(RuleSet):
            def __init__(self, rules: RuleSet) -> None:  # share the compiled rules
                self.__dict__.update(rules.__dict__)

            def match(self, notice: Notice) -> tuple[Evidence, ...]:
                hit = kept.get(id(notice))
                if hit is not None and hit[0] is notice:
                    return hit[1]  # type: ignore[return-value]
                found = super().match(notice)
                kept[id(notice)] = (notice, found)
                return found

        tokens: dict[str, list[str]] = {}
        probs: dict[tuple[str, ...], object] = {}
        model = base.model
        tokenizer = base.tokenizer

        def tokenize(text: str) -> list[str]:
            if text not in tokens:
                tokens[text] = list(tokenizer(text))
            return tokens[text]

        class _Model:
            version = getattr(model, "version", None)

            def predict_proba(self, toks: Sequence[str]) -> object:
                key = tuple(toks)
                if key not in probs:
                    assert model is not None
                    probs[key] = model.predict_proba(toks)
                return probs[key]

            def top_features(self, toks: Sequence[str], kind: object, n: int) -> object:
                key = (tuple(toks), kind, n)
                if key not in features:
                    assert model is not None
                    features[key] = model.top_features(toks, kind, n)  # type: ignore[attr-defined]
                return features[key]

        features: dict[tuple[tuple[str, ...], object, int], object] = {}
        self._caches = (tokens, probs, features)
        self.classifier = Classifier(
            _Rules(base.rules),
            _Model(),  # type: ignore[arg-type]
            tokenizer=tokenize,
            calibration=base.calibration,
        )

    def next_history(self) -> None:
        """Forget the finished history's notices (the text caches are bounded by clearing)."""
        self.kept.clear()
        self.answers.clear()
        for cache in self._caches:
            if len(cache) > 4096:
                cache.clear()


def _score(
    h: _History,
    p: float,
    counts: dict[str, int],
    parsed: dict[int, Notice],
    memo: _Memo | None = None,
) -> None:
    from icp_notify.classifier import classify
    from icp_notify.parse import parse

    recorded = tuple(op for op, draw in h.operations if draw < p)
    for i, (prior, truth) in enumerate(h.notices):
        if truth is None:
            continue
        when = prior.received_at
        ops = tuple(op for op in recorded if op.submitted_at < when)
        before = tuple(n for n, _ in h.notices[:i])
        ctx = Context(operations=ops, previous_notices=before)
        if i not in parsed:  # parsed once, classified at every p
            parsed[i] = parse(prior.text, sender=prior.sender, received_at=when)
        if memo is None:
            c = classify(parsed[i], context=ctx)
        else:  # the same notice with the same recorded operations: the same answer
            key = (i, tuple(id(op) for op in ops))
            known = memo.answers.get(key)
            c = known if known is not None else memo.classifier.classify_notice(parsed[i], ctx)
            memo.answers[key] = c
        if c.situation is not None:
            counts["right" if c.situation is truth else "wrong"] += 1
        else:
            counts["amb_in" if truth in c.candidates else "missing"] += 1


def _chunk_counts(
    seed: int, start: int, stop: int, ps: tuple[float, ...], memo: bool = True
) -> list[dict[str, int]]:
    """Score histories ``start``…``stop - 1`` at every p (one worker's share)."""
    counts = [dict.fromkeys(("right", "amb_in", "wrong", "missing"), 0) for _ in ps]
    texts = _Memo() if memo else None
    for index in range(start, stop):
        h = _history(seed, index)
        parsed: dict[int, Notice] = {}
        for p, tally in zip(ps, counts, strict=True):
            _score(h, p, tally, parsed, texts)
        if texts is not None:
            texts.next_history()
    return counts


def simulate(
    histories: int = 10_000,
    seed: int = 1,
    ps: Sequence[float] = (1.0, 0.9, 0.7),
    *,
    workers: int = 1,
) -> SimulationResult:
    """Simulate ``histories`` filings and score every generic notice at each ``p``.

    The same histories are scored at every ``p``; an operation recorded at a lower ``p`` is also
    recorded at every higher one. History ``i`` depends on ``seed`` and ``i`` alone, so the
    result is the same for any number of ``workers``.

    Parameters
    ----------
    histories : int, default 10000
        How many filings to simulate.
    seed : int, default 1
        The seed (the result depends on nothing else).
    ps : sequence of float, default (1.0, 0.9, 0.7)
        Probabilities that the user records an operation.
    workers : int, default 1
        Processes sharing the histories (each loads the rules and the model once).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> simulate(3, seed=1, ps=(1.0,)).rows[0].wrong
    0
    """
    probabilities = tuple(ps)
    if workers <= 1 or histories < 2 * workers:
        totals = _chunk_counts(seed, 0, histories, probabilities)
    else:
        import concurrent.futures
        import multiprocessing

        bounds = [histories * k // workers for k in range(workers + 1)]
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(
                pool.map(
                    _chunk_counts,
                    [seed] * workers,
                    bounds[:-1],
                    bounds[1:],
                    [probabilities] * workers,
                )
            )
        totals = [
            {key: sum(part[i][key] for part in parts) for key in parts[0][i]}
            for i in range(len(probabilities))
        ]
    rows = tuple(
        SimulationRow(p=p, histories=histories, generic=sum(c.values()), **c)
        for p, c in zip(probabilities, totals, strict=True)
    )
    return SimulationResult(seed=seed, rows=rows)
