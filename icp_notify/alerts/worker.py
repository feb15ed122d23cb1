"""The delivery worker: a thread that empties the alert outbox, with retries.

Each round claims the due alerts (``pending``/``retry`` whose time has come; the claim marks
them ``sending`` and counts the try), renders each card and sends it through its channel, then
records the answer:

* 2xx (and a robot error code of 0): ``delivered`` — never sent again;
* anything else: ``retry`` after ``min(cap, base * 2 ** (tries - 1))`` seconds times a random
  factor in [0.5, 1) (jitter); a 429 or ``Retry-After`` waits at least as long as asked;
* after ``max_attempts`` tries: ``dead`` (kept, listed by ``GET /v1/alerts?state=dead``).

On start, alerts a crash left ``sending`` go back to ``retry`` (the receiver may see such an
alert twice, with the same idempotency key; an alert recorded ``delivered`` is never re-sent).

Examples
--------
>>> cfg = DeliveryConfig(backoff_base_s=30, backoff_cap_s=600)
>>> [backoff(n, cfg, rng=lambda: 0.999) for n in (1, 2, 3, 6)]
[29.985, 59.97, 119.94, 599.7]
>>> backoff(1, cfg, rng=lambda: 0.0)
15.0
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from icp_notify.alerts.base import Delivery, Sender
from icp_notify.alerts.card import Change, build_card
from icp_notify.alerts.config import DeliveryConfig
from icp_notify.models import Report

if TYPE_CHECKING:
    import httpx

    from icp_notify.server.outbox import ClaimedAlert
    from icp_notify.server.store import NoticeStore

__all__ = ["DeliveryWorker", "backoff"]

log = logging.getLogger("icp_notify.alerts")


def backoff(
    attempt: int, config: DeliveryConfig, *, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after failed try number ``attempt`` (1-based), with jitter.

    Parameters
    ----------
    attempt : int
        How many tries were made.
    config : DeliveryConfig
        ``backoff_base_s`` and ``backoff_cap_s``.
    rng : callable, optional
        A number in [0, 1) (tests pass a fixed one).

    Returns
    -------
    float
        ``min(cap, base * 2 ** (attempt - 1)) * (0.5 + rng() / 2)``.
    """
    ceiling = min(config.backoff_cap_s, config.backoff_base_s * 2 ** max(0, attempt - 1))
    return float(round(ceiling * (0.5 + rng() / 2), 6))


class DeliveryWorker:
    """Delivers the outbox of ``store`` through ``senders`` (one thread, see the module docs).

    Parameters
    ----------
    store : NoticeStore
        The store holding the outbox.
    senders : mapping of str to Sender
        Channel name → sender (:func:`icp_notify.alerts.channels.build_senders`).
    config : DeliveryConfig
        Retry schedule, timeouts, polling interval.
    clock : callable, optional
        The current time (aware); tests move it forward.
    rng : callable, optional
        Jitter source in [0, 1).
    """

    def __init__(
        self,
        store: NoticeStore,
        senders: Mapping[str, Sender],
        config: DeliveryConfig,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.config = config
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.rng = rng
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------------ one round

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.config.timeout_s, follow_redirects=False)
        return self._client

    def deliver(self, claimed: ClaimedAlert) -> Delivery:
        """Send one claimed alert and record the outcome.

        Parameters
        ----------
        claimed : ClaimedAlert
            From :meth:`NoticeStore.claim_alerts`.

        Returns
        -------
        Delivery
            The channel's answer.
        """
        alert = claimed.alert
        sender = self.senders.get(alert.channel)
        if sender is None:
            result = Delivery(False, None, f"channel {alert.channel!r} is not in the alerts file")
        else:
            try:
                report = Report.model_validate_json(claimed.report_json)
                change = (
                    Change.model_validate_json(claimed.change_json) if claimed.change_json else None
                )
                card = build_card(
                    report, filing=alert.filing, notice_id=alert.notice_id, change=change
                )
                result = sender.send(card, alert.idempotency_key, self._http())
            except Exception as exc:  # a bug in a channel must not stop the worker
                log.exception("alert %d: sending through %s failed", alert.id, alert.channel)
                result = Delivery(False, None, f"{type(exc).__name__}: {exc}"[:300])
        if result.ok:
            self.store.record_attempt(alert.id, "delivered", status=result.status, error=None)
            log.info("alert %d delivered to %s (%s)", alert.id, alert.channel, result.status)
        elif alert.attempts >= self.config.max_attempts:
            self.store.record_attempt(alert.id, "dead", status=result.status, error=result.error)
            log.warning(
                "alert %d to %s is dead after %d tries: %s",
                alert.id,
                alert.channel,
                alert.attempts,
                result.error,
            )
        else:
            wait = backoff(alert.attempts, self.config, rng=self.rng)
            if result.retry_after is not None:
                wait = max(wait, min(result.retry_after, 86_400.0))
            next_at = self.clock() + dt.timedelta(seconds=wait)
            self.store.record_attempt(
                alert.id, "retry", status=result.status, error=result.error, next_at=next_at
            )
            log.warning(
                "alert %d to %s failed (try %d): %s; next try in %.0f s",
                alert.id,
                alert.channel,
                alert.attempts,
                result.error,
                wait,
            )
        return result

    def run_once(self, *, limit: int = 20) -> int:
        """Deliver the alerts due now (at most ``limit``); return how many were tried.

        Parameters
        ----------
        limit : int, default 20
            At most this many in one round.

        Returns
        -------
        int
        """
        tried = 0
        while tried < limit and not self._stop.is_set():
            # one claim per send: a crash leaves at most one alert `sending`
            claimed = self.store.claim_alerts(self.clock(), limit=1)
            if not claimed:
                break
            self.deliver(claimed[0])
            tried += 1
        return tried

    # ------------------------------------------------------------------ the thread

    def start(self) -> None:
        """Requeue interrupted alerts and start the delivery thread."""
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.warning("%d alert(s) were being sent when the service stopped; retrying", requeued)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="icp-notify-alerts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the round: a wake during it is not lost
            try:
                tried = self.run_once()
            except Exception:  # the store closing under us, a full disk: log, wait, go on
                log.exception("alert delivery round failed")
                tried = 0
            if tried == 0:
                self._wake.wait(self.config.poll_s)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the thread (after the delivery in progress) and close the HTTP client.

        Parameters
        ----------
        timeout : float, default 15
            Seconds to wait for the thread.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None
