"""Alerts end to end: conditions driven on the emulator rig (or at the unit where the rig has
no knob), delivered by apprise to a webhook receiver on 127.0.0.1, journaled, never in the
way of a cycle, never logging a channel's token."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app.daemon import DaemonHooks, run_daemon
from bot.app.operator import halt
from bot.config import load_config
from bot.config.alerts import AlertChannelConfig, AlertsConfig
from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import (
    Accepted,
    OrderState,
    TransferId,
    TransferKind,
    TransferRequest,
    TransferState,
)
from bot.engine.alert_channels import build_channels
from bot.engine.alert_sink import AlertDispatcher
from bot.engine.alert_watch import AlertWatch, watch_cycle
from bot.engine.collateral_job import track_transfers
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle import HedgeEngine
from bot.engine.margin_job import _liquidation_alert, stress_snapshot
from bot.engine.reconciler import reconcile_journal
from bot.engine.scheduler import Jobs
from bot.engine.status import status_of
from bot.ops.logging import LogFormat, LogLevel, configure_logging
from bot.sim.faults import DropMode, FaultAction
from tests.integration.test_engine import CONFIG, FrozenPositions, Rig, make_rig
from tests.webhook import Receiver, eventually, webhook

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-webhook-password"


def alerts_config(**changes: Any) -> AlertsConfig:
    """One channel ``hook`` taking every severity from ``HOOK``, with ``changes``."""
    channel = AlertChannelConfig(name="hook", url_env="HOOK", min_severity=Severity.INFO)
    return AlertsConfig(channels=(channel,), **changes)


@dataclasses.dataclass
class Wired:
    """The rig with a dispatcher delivering to ``receiver``, and the scheduler's jobs."""

    rig: Rig
    receiver: Receiver
    sink: AlertDispatcher
    ctx: EngineContext
    jobs: Jobs

    async def cycle(self) -> None:
        await self.jobs.hedge_cycle()
        self.rig.clock.advance(5_000)

    async def delivered(self, kind: AlertKind, containing: str = "") -> list[str]:
        """The messages of ``kind`` (with ``containing`` in them) the receiver got; waits for
        one, a deadlock guard."""

        def got() -> list[str]:
            return [
                b["message"]
                for b in self.receiver.bodies
                if kind in b["title"] and containing in b["message"]
            ]

        await eventually(lambda: bool(got()))
        return got()


@asynccontextmanager
async def wired(
    tmp_path: Path,
    *,
    status: int = 200,
    gate: threading.Event | None = None,
    queue_size: int = 100,
    **changes: Any,
) -> AsyncIterator[Wired]:
    with webhook(status, gate) as receiver:
        sinks: list[AlertDispatcher] = []

        def rate_limited(venue: VenueId, detail: str) -> None:  # the daemon's wiring, in short
            sinks[0].emit(
                AlertEvent(
                    AlertKind.RATE_LIMITED, Severity.WARNING, venue, f"{venue} slow: {detail}", 0
                )
            )

        async with make_rig(tmp_path, CONFIG, on_rate_limited=rate_limited) as rig:
            alerts = alerts_config(**changes)
            config = rig.config.model_copy(update={"alerts": alerts})
            channels = build_channels(alerts, {"HOOK": receiver.url})
            sink = AlertDispatcher(
                rig.journal, channels, rig.ctx.metrics, window_ms=600_000, queue_size=queue_size
            )
            sink.start()
            sinks.append(sink)
            ctx = dataclasses.replace(rig.ctx, config=config, alerts=sink)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            try:
                yield Wired(rig, receiver, sink, ctx, jobs)
            finally:
                if gate is not None:
                    gate.set()
                sink.close(10.0)


async def test_an_operator_halt_beside_the_daemon_is_alerted_with_who_and_why(
    tmp_path: Path,
) -> None:
    """`deltabot halt` writes the journal; the next cycle notices it, logs one line and the
    webhook gets "trading active -> halted by operator: <reason>"."""
    async with wired(tmp_path) as w:
        await w.cycle()
        halt(w.rig.config.daemon.journal_path, "desk says stop")
        await w.cycle()
        [message] = await w.delivered(AlertKind.TRADING_STATE)
        assert message.endswith("trading active -> halted by operator: desk says stop")
        assert message.startswith("20")  # an ISO-8601 UTC time first


async def test_rate_limits_and_failing_cycles_are_alerted_per_venue(tmp_path: Path) -> None:
    """Deribit 10028 on every position read: the venue's rate limit and the failing cycle
    (the last_cycle component) both reach the webhook."""
    async with wired(tmp_path) as w:
        w.rig.faults.inject_error(10028, method="private/get_positions")
        await w.cycle()
        [limited] = await w.delivered(AlertKind.RATE_LIMITED)
        assert "sim-a slow: DDoSProtection" in limited and "10028" in limited
        [failing] = await w.delivered(AlertKind.HEDGE_FAILING)
        assert "last_cycle failing" in failing


async def test_stale_marks_alert_and_resolve(tmp_path: Path) -> None:
    """Frozen marks make the inputs component fail (one critical alert); fresh ones resolve
    it (one "resolved" message)."""
    async with wired(tmp_path) as w:
        await w.cycle()
        w.rig.faults.set_stale_marks()
        w.rig.clock.advance(60_000)
        await w.cycle()
        await w.cycle()
        [stale] = await w.delivered(AlertKind.STALE_INPUTS)
        assert "inputs failing: stale inputs" in stale
        w.rig.faults.clear()
        await w.cycle()
        await eventually(
            lambda: len([b for b in w.receiver.bodies if "stale_inputs" in b["title"]]) == 2
        )
        assert "resolved: inputs ok" in w.receiver.bodies[-1]["message"]


async def test_a_position_that_does_not_move_is_a_mismatch_alert_and_a_lock_line(
    tmp_path: Path,
) -> None:
    """Fills without a position change lock BTC: a critical reconcile_mismatch alert, and one
    lock_set log line at the cycle that sees it."""
    import structlog

    async with wired(tmp_path) as w:
        stuck = FrozenPositions(w.rig.venues["sim-a"])
        ctx = dataclasses.replace(w.ctx, venues={"sim-a": stuck})
        jobs = Jobs(ctx, HedgeEngine(ctx, ctx.config.strategy.build()))
        with structlog.testing.capture_logs() as logs:
            for _ in range(2):
                await jobs.hedge_cycle()
                w.rig.clock.advance(5_000)
        [message] = await w.delivered(AlertKind.RECONCILE_MISMATCH)
        assert "BTC locked: the position did not move as our fills say" in message
        assert [e["subject"] for e in logs if e["event"] == "lock_set"] == ["BTC"]


async def test_an_order_unknown_past_its_window_is_alerted(tmp_path: Path) -> None:
    """An order lost before the venue and never found is given up after its window: alert."""
    async with wired(tmp_path) as w:
        w.rig.faults.drop(FaultAction.DROP_BEFORE_SEEN, method="private/sell", mode=DropMode.CLOSE)
        [(lost, _)] = (await w.jobs.engine.run_cycle()).outcomes
        for method in ("private/get_open_orders_by_instrument", "private/get_order_history_by_*"):
            w.rig.faults.inject_error(10001, method=method)
        w.rig.clock.advance(w.rig.config.risk.unknown_resolution_ms)
        await reconcile_journal(w.ctx, recheck_not_found=False)
        assert w.rig.journal.orders.get(lost.order.client_id).state is OrderState.NOT_FOUND
        [message] = await w.delivered(AlertKind.UNKNOWN_ORDER)
        assert lost.order.client_id in message and "unknown past its window" in message


async def test_ioc_cancels_in_a_row_and_the_daily_summary_are_alerted(tmp_path: Path) -> None:
    """Three hedge IOCs of BTC canceled unfilled alert hedge_failing; the summary goes out once
    its UTC time has passed, with the trading state and the orders of the day."""
    async with wired(tmp_path, ioc_cancel_streak=3) as w:
        result = await w.jobs.engine.run_cycle()
        [(intent, accepted)] = result.outcomes
        assert isinstance(accepted, Accepted)
        unfilled = Accepted(
            dataclasses.replace(accepted.report, state=OrderState.CANCELED, filled_amount=0.0)
        )
        missed = dataclasses.replace(result, outcomes=((intent, unfilled),))
        watch = AlertWatch.start(w.ctx)
        watch.summary_day -= 1  # the summary time of today has passed since the last one
        for _ in range(3):
            watch_cycle(w.ctx, watch, LatestRead().after_cycle(missed))
        # The band component of the same cycles is hedge_failing too: pick the IOC streak's.
        [ioc] = await w.delivered(AlertKind.HEDGE_FAILING, "hedge IOCs in a row")
        assert "BTC: 3 hedge IOCs in a row canceled unfilled" in ioc
        [summary] = await w.delivered(AlertKind.DAILY_SUMMARY)
        assert "trading active" in summary and "orders: 1 sent, 1 filled" in summary


async def test_stress_liquidation_and_transfers_are_alerted(tmp_path: Path) -> None:
    """A stress loss over its limit, a liquidation closer than the threshold and a transfer in
    flight past transfer_stuck_s each reach the webhook."""
    async with wired(tmp_path, stress_loss_limit_usd=1_000.0, transfer_stuck_s=60.0) as w:
        first = LatestRead().after_cycle(await w.jobs.engine.run_cycle())
        assert stress_snapshot(w.ctx, first) is not None  # ~30,000 USD crash loss before the hedge
        [stress] = await w.delivered(AlertKind.STRESS_LOSS)
        assert "over the limit 1,000 USD" in stress
        _liquidation_alert(w.ctx, "sim-a", 0.05, 0.4)
        [margin] = await w.delivered(AlertKind.MARGIN)
        assert "sim-a: a 5.0% move down liquidates it" in margin
        req = TransferRequest(
            TransferId("t-1"),
            VenueId("sim-a"),
            TransferKind.SUBACCOUNT,
            Currency("BTC"),
            0.5,
            "sub-1",
        )
        w.rig.journal.transfers.record(req, w.rig.clock.now_ms())
        w.rig.journal.transfers.mark(req.transfer_id, TransferState.SUBMITTED, w.rig.clock.now_ms())
        w.rig.clock.advance(120_000)
        await track_transfers(w.ctx)
        [transfer] = await w.delivered(AlertKind.TRANSFER)
        assert "transfer t-1 stuck (submitted for 2 min)" in transfer


async def test_every_alert_class_reaches_the_webhook_and_the_journal(tmp_path: Path) -> None:
    """One event of each class through the dispatcher: each reaches the receiver, each is
    journaled as delivered, counted in deltabot_alerts_total and listed by /status."""
    async with wired(tmp_path) as w:
        now = w.rig.clock.now_ms()
        for kind in AlertKind:
            w.sink.emit(AlertEvent(kind, Severity.WARNING, kind.value, f"{kind.value} now", now))
        await eventually(lambda: len(w.receiver.bodies) == len(AlertKind))
        w.sink.close(10.0)
        assert {b["title"].split(": ")[1] for b in w.receiver.bodies} == {
            k.value for k in AlertKind
        }
        rows = w.rig.journal.alerts.recent(100)
        assert {r.kind for r in rows} == set(AlertKind)
        assert all(dict(r.delivery) == {"hook": "delivered"} for r in rows)
        body, _ = w.ctx.metrics.exposition()
        assert b'deltabot_alerts_total{event="lock",severity="warning"} 1.0' in body
        status = status_of(w.ctx, LatestRead(), now)
        shown = status["alerts"]
        assert isinstance(shown, list) and len(shown) == 10 and shown[0]["at"].endswith("Z")


async def test_a_failing_channel_never_fails_a_cycle_and_is_journaled_failed(
    tmp_path: Path,
) -> None:
    """A webhook answering 500: every cycle still succeeds, the alert is journaled failed."""
    async with wired(tmp_path, status=500) as w:
        halt(w.rig.config.daemon.journal_path, "test")
        for _ in range(3):
            await w.cycle()
        assert w.jobs.latest.cycle is not None and w.jobs.latest.cycle.error is None
        await w.delivered(AlertKind.TRADING_STATE)
        w.sink.close(10.0)
        [row] = [r for r in w.rig.journal.alerts.recent(10) if r.kind is AlertKind.TRADING_STATE]
        assert dict(row.delivery) == {"hook": "failed"}


async def test_a_hanging_channel_never_holds_a_cycle_back(tmp_path: Path) -> None:
    """A webhook that holds every request: five cycles run while the first alert is still
    unanswered (counted, not timed); once it answers, the alert is delivered at close."""
    gate = threading.Event()
    async with wired(tmp_path, gate=gate) as w:
        halt(w.rig.config.daemon.journal_path, "test")
        await w.cycle()
        await eventually(lambda: w.receiver.arrived > 0)
        done = 1
        for _ in range(4):
            await w.cycle()
            done += 1
        assert done == 5 and w.receiver.bodies == []
        gate.set()
        w.sink.close(10.0)
        assert w.receiver.bodies != []


async def test_a_full_queue_drops_the_oldest_info_and_counts_it(tmp_path: Path) -> None:
    """Queue of 10 behind a hanging channel: 20 info alerts drop the oldest ones (counted in
    deltabot_alerts_dropped_total and journaled "dropped"); a critical one is kept."""
    gate = threading.Event()
    async with wired(tmp_path, gate=gate, queue_size=10) as w:
        now = w.rig.clock.now_ms()
        w.sink.emit(AlertEvent(AlertKind.LOCK, Severity.CRITICAL, "crit", "critical one", now))
        await eventually(lambda: w.receiver.arrived > 0)
        w.sink.emit(AlertEvent(AlertKind.LOCK, Severity.CRITICAL, "crit2", "critical two", now))
        for i in range(20):
            w.sink.emit(AlertEvent(AlertKind.HEALTH, Severity.INFO, f"i{i}", f"info {i}", now))
        assert w.sink.dropped == 11
        w.sink.tick(now)
        body, _ = w.ctx.metrics.exposition()
        assert b"deltabot_alerts_dropped_total 11.0" in body
        gate.set()
        w.sink.close(10.0)
        delivered = w.receiver.messages()
        assert any("critical two" in m for m in delivered)
        assert not any(m.endswith("info 0") for m in delivered)
        dropped = [
            r for r in w.rig.journal.alerts.recent(30) if r.delivery.get("hook") == "dropped"
        ]
        assert len(dropped) == 11


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the daemon's logging chain writes, at debug, as JSON lines."""
    stream = io.StringIO()
    configure_logging(LogLevel.DEBUG, LogFormat.JSON, stream, secrets=[SECRET])
    try:
        yield stream
    finally:
        for handler in logging.getLogger().handlers[:]:
            if type(handler).__name__ == "_DeltabotHandler":
                logging.getLogger().removeHandler(handler)


def daemon_config(tmp_path: Path, journal: Path) -> Any:
    text = CONFIG.format(journal=journal).replace("[metrics]\nenabled = false", "")
    path = tmp_path / "daemon.toml"
    path.write_text(
        text
        + '\n[metrics]\nenabled = false\n[alerts]\n[[alerts.channels]]\nname = "hook"\n'
        + 'url_env = "HOOK"\nmin_severity = "info"\n'
    )
    return load_config(path, {})


async def test_the_daemon_alerts_its_start_and_stop_and_logs_no_token(tmp_path: Path) -> None:
    """run_daemon with a channel whose URL carries a password: "daemon started" and "daemon
    stopped" reach the webhook; the password is in no log line at debug level."""
    config = daemon_config(tmp_path, tmp_path / "journal.sqlite")
    with webhook() as receiver:
        url = receiver.url.replace("json://", f"json://user:{SECRET}@")
        stop = asyncio.Event()
        with captured_logs() as logs:
            hooks = DaemonHooks(on_ready=lambda _d: stop.set())
            await run_daemon(config, {"HOOK": url}, stop, hooks)
        titles = [b["title"] for b in receiver.bodies]
        assert "deltabot info: daemon_started" in titles
        assert "deltabot info: daemon_stopped" in titles
        text = logs.getvalue()
        assert '"event": "alert"' in text and SECRET not in text


async def test_a_crash_is_sent_before_the_exception_escapes(tmp_path: Path) -> None:
    """A journal path that is a directory: run_daemon raises, and "daemon crashed" with the
    reason has reached the webhook by then."""
    (tmp_path / "journal-dir").mkdir()
    config = daemon_config(tmp_path, tmp_path / "journal-dir")
    with webhook() as receiver:
        with pytest.raises(Exception, match="journal"):
            await run_daemon(config, {"HOOK": receiver.url}, asyncio.Event())
        [body] = receiver.bodies
        assert body["title"] == "deltabot critical: daemon_crashed"
        assert "daemon crashed: " in body["message"] and "journal-dir" in body["message"]
        assert json.dumps(body)
