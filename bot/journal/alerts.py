"""Every alert the daemon raised, with how each channel took it.

An alert is journaled when it is raised, before any delivery is tried, so the
record exists even when every channel is down; each channel's outcome
(``delivered`` or ``failed``) is added when it is known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.domain.alerts import Alert, AlertKind, Severity
from bot.journal.db import Db


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One journaled alert: its text for a person and each channel's delivery so far."""

    seq: int
    ts_ms: int
    kind: AlertKind
    severity: Severity
    key: str
    text: str
    count: int
    resolved: bool
    delivery: Mapping[str, str]


class AlertStore:
    """The ``alerts`` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, alert: Alert, channels: Mapping[str, str]) -> int:
        """Journal ``alert`` with each channel's initial delivery state; returns its seq."""
        e = alert.event
        row = {
            "ts_ms": e.ts_ms,
            "kind": e.kind.value,
            "severity": e.severity.value,
            "key": e.key,
            "message": alert.text,
            "count": alert.count,
            "resolved": e.resolved,
            "fields_json": json.dumps(dict(e.fields), sort_keys=True),
            "delivery_json": json.dumps(dict(channels), sort_keys=True),
        }
        with self._db.tx():
            self._db.insert("alerts", row)
            found = self._db.one("SELECT last_insert_rowid()")
        assert found is not None
        return int(found[0])

    def mark_delivery(self, seq: int, outcomes: Mapping[str, str]) -> None:
        """Set the delivery outcome of some channels of alert ``seq``."""
        with self._db.tx():
            row = self._db.one("SELECT delivery_json FROM alerts WHERE seq = ?", (seq,))
            if row is None:
                return
            delivery = {**json.loads(row[0]), **outcomes}
            self._db.execute(
                "UPDATE alerts SET delivery_json = ? WHERE seq = ?",
                (json.dumps(delivery, sort_keys=True), seq),
            )

    def recent(self, limit: int) -> tuple[AlertRow, ...]:
        """The ``limit`` newest alerts, newest first."""
        rows = self._db.query(
            "SELECT seq, ts_ms, kind, severity, key, message, count, resolved, delivery_json "
            "FROM alerts ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return tuple(
            AlertRow(
                seq,
                ts,
                AlertKind(kind),
                Severity(sev),
                key,
                text,
                count,
                bool(resolved),
                MappingProxyType(json.loads(delivery)),
            )
            for seq, ts, kind, sev, key, text, count, resolved, delivery in rows
        )

    def counts_since(self, since_ms: int) -> dict[str, int]:
        """Alerts raised at or after ``since_ms`` per severity (occurrences, bursts counted)."""
        rows = self._db.query(
            "SELECT severity, SUM(count) FROM alerts WHERE ts_ms >= ? GROUP BY severity",
            (since_ms,),
        )
        return {sev: int(n) for sev, n in rows}
