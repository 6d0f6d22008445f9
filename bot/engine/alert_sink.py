"""Where the engine's alert events go: throttled, journaled, counted, logged, then delivered
off the hedge path.

:class:`AlertDispatcher` does the cheap part on the caller's thread (the event
loop): the throttle (:class:`~bot.domain.alerts.Throttle`), the journal row, the
metric and one log line. Delivery is one worker thread running apprise's
blocking ``notify`` from a bounded queue, so a slow or failing channel never
delays or fails a cycle. The journal's connection stays on the loop's thread:
the worker hands each channel's outcome back, and :meth:`AlertDispatcher.tick`
(after every hedge cycle) journals it. A full queue drops its oldest info alert
(else its oldest) and counts the drop. At stop the queue is drained for
``drain_timeout_s``; a crash is sent at once with the same bound.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog

from bot.domain.alerts import Alert, AlertEvent, Severity, Throttle
from bot.engine.alert_channels import Channel, notifier
from bot.journal import Journal
from bot.ops.metrics import DaemonMetrics

log = structlog.get_logger("deltabot.alerts")

_NOTIFY_TYPE: Final = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "failure",
}
"""apprise's ``NotifyType`` value per severity."""
_LOG_METHOD: Final = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "error",
}
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
PENDING: Final = "pending"
DROPPED: Final = "dropped"


class AlertSink(Protocol):
    """What the engine's jobs emit alert events to; neither call may block on delivery."""

    def emit(self, event: AlertEvent) -> None: ...

    def tick(self, now_ms: int) -> None:
        """Send the throttled bursts whose window ended and journal delivery outcomes."""
        ...


class NoAlerts:
    """The sink of a context built without one (tests, tools): events go nowhere."""

    def emit(self, event: AlertEvent) -> None:
        return None

    def tick(self, now_ms: int) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Delivery:
    seq: int
    alert: Alert
    targets: tuple[tuple[Channel, Any], ...]


def _send(sender: Any, alert: Alert) -> str:
    """One apprise notify; any exception is a failed delivery, never the caller's problem."""
    try:
        ok = sender.notify(
            body=alert.text, title=alert.title, notify_type=_NOTIFY_TYPE[alert.event.severity]
        )
    except Exception:
        return FAILED
    return DELIVERED if ok else FAILED


class AlertDispatcher:
    """The daemon's :class:`AlertSink`: journal, metric and log now, delivery by one worker."""

    def __init__(
        self,
        journal: Journal,
        channels: Sequence[Channel],
        metrics: DaemonMetrics,
        *,
        window_ms: int,
        queue_size: int,
    ) -> None:
        self._journal = journal
        self.metrics = metrics
        self._channels = tuple((ch, notifier(ch.url.get_secret_value())) for ch in channels)
        self._throttle = Throttle(window_ms)
        self._queue: deque[_Delivery] = deque()
        self._queue_size = queue_size
        self._ready = threading.Condition()
        self._closing = False
        self._results: deque[tuple[int, dict[str, str]]] = deque()
        self._worker = threading.Thread(target=self._work, name="deltabot-alerts", daemon=True)
        self.dropped = 0

    def start(self) -> None:
        self._worker.start()

    def emit(self, event: AlertEvent) -> None:
        self._throttle, alerts = self._throttle.offer(event)
        for alert in alerts:
            self._raise(alert)

    def tick(self, now_ms: int) -> None:
        self._journal_outcomes()
        self._throttle, alerts = self._throttle.due(now_ms)
        for alert in alerts:
            self._raise(alert)

    def _raise(self, alert: Alert) -> None:
        e = alert.event
        targets = tuple((ch, s) for ch, s in self._channels if ch.accepts(e.severity))
        seq = self._journal.alerts.record(alert, {ch.name: PENDING for ch, _ in targets})
        self.metrics.alert_raised(e.kind.value, e.severity.value, alert.count)
        getattr(log, _LOG_METHOD[e.severity])(
            "alert",
            kind=e.kind.value,
            severity=e.severity.value,
            alert_key=e.key,
            count=alert.count,
            message=alert.text,
            channels=[ch.name for ch, _ in targets],
        )
        if targets:
            self._enqueue(_Delivery(seq, alert, targets))

    def _enqueue(self, delivery: _Delivery) -> None:
        with self._ready:
            if len(self._queue) >= self._queue_size:
                victim = next(
                    (d for d in self._queue if d.alert.event.severity is Severity.INFO),
                    self._queue[0],
                )
                self._queue.remove(victim)
                self._results.append((victim.seq, {ch.name: DROPPED for ch, _ in victim.targets}))
                self.dropped += 1
                self.metrics.alert_dropped()
                log.warning(
                    "alert_dropped", alert_key=victim.alert.event.key, queue_size=self._queue_size
                )
            self._queue.append(delivery)
            self._ready.notify()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                delivery = self._queue.popleft()
            outcomes = {ch.name: _send(sender, delivery.alert) for ch, sender in delivery.targets}
            self._results.append((delivery.seq, outcomes))

    def _journal_outcomes(self) -> None:
        while self._results:
            seq, outcomes = self._results.popleft()
            self._journal.alerts.mark_delivery(seq, outcomes)
            for name, outcome in outcomes.items():
                if outcome != DELIVERED:
                    log.warning("alert_undelivered", channel=name, seq=seq, outcome=outcome)

    def close(self, timeout_s: float) -> int:
        """Deliver what is queued within ``timeout_s``, stop the worker and journal the
        outcomes; returns how many alerts were left undelivered."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        if self._worker.is_alive():
            self._worker.join(timeout_s)
        self._journal_outcomes()
        with self._ready:
            left = len(self._queue)
        if left or self._worker.is_alive():
            log.warning("alerts_undelivered_at_stop", queued=left)
        return left


def send_now(channels: Sequence[Channel], alert: Alert, timeout_s: float) -> dict[str, str]:
    """Deliver ``alert`` to ``channels`` at once, waiting at most ``timeout_s`` (a crash: the
    process is about to exit, there is no worker to wait for); a channel still sending
    when time is up is ``pending``."""
    outcomes = {ch.name: PENDING for ch in channels if ch.accepts(alert.event.severity)}

    def deliver() -> None:
        for ch in channels:
            if ch.name in outcomes:
                sender = notifier(ch.url.get_secret_value())
                outcomes[ch.name] = FAILED if sender is None else _send(sender, alert)

    worker = threading.Thread(target=deliver, name="deltabot-alert-now", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return dict(outcomes)
