"""Fault knobs of the Deribit emulator: what a real venue does to a hedger on a bad day.

The knobs exist so tests and demos can show what the bot does when the venue
is slow, refuses, answers an order it executed with silence, or serves stale
marks: the cases where a naive hedger double-sends or hedges on a lie.

Each knob targets JSON-RPC methods by a glob over the method name
(``"private/buy"``, ``"private/*"``, ``"*"``). Randomness comes from one
seeded generator, so a run with the same seed and request sequence fires the
same faults.

The Binance USDⓈ-M facade names its requests ``"<HTTP method> <path>"``
(``"POST /fapi/v1/order"``, ``"GET /fapi/*"``); stale marks and empty positions
act on each dialect's market-data and position reads alone, whatever the glob.

Rules apply to JSON-RPC requests over the websocket too (an error rule on
``public/auth`` refuses a re-login, 10028 on ``*/subscribe`` is a rate limit, a
drop rule closes the connection). The ``ws_*`` knobs act on what the emulator
pushes: ``ws_stall`` silences the subscriptions whose channel matches a glob
(the connection stays up), ``ws_delay_ms`` holds every push, ``ws_reorder``
delivers pushes in swapped pairs, ``ws_drop_messages`` loses the next N pushes
and ``ws_disconnect`` closes every websocket once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from bot.sim.errors import MESSAGES, SimError

MARKET_DATA_METHODS = frozenset(
    {
        "public/ticker",
        "public/get_order_book",
        "public/get_index_price",
        "public/get_book_summary_by_currency",
        "GET /fapi/v1/premiumIndex",
        "GET /fapi/v1/ticker/bookTicker",
        "GET /fapi/v1/ticker/24hr",
        "GET /fapi/v1/depth",
    }
)
"""Methods whose answers the stale-marks knob freezes (Deribit's and Binance's)."""

POSITION_METHODS = frozenset(
    {"private/get_positions", "GET /fapi/v2/positionRisk", "GET /fapi/v3/positionRisk"}
)
"""Methods the empty-positions knob answers with an empty list (Deribit's and Binance's)."""


class FaultAction(StrEnum):
    """What a matching rule does to the request."""

    ERROR = "error"
    """Answer with a JSON-RPC error ``code``; the engine never sees the request."""
    DROP_BEFORE_SEEN = "drop_before_seen"
    """Never answer and never reach the engine: the request is lost on the way in."""
    FILL_THEN_DROP = "fill_then_drop"
    """Run the request in the engine, then never answer: the reply is lost on the way out."""


class DropMode(StrEnum):
    """How an unanswered request ends for the client."""

    HANG = "hang"
    """Hold the connection open until the client gives up (ccxt: RequestTimeout)."""
    CLOSE = "close"
    """Close the connection without a reply (ccxt: a network error)."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One injected fault.

    ``count`` limits how many requests the rule fires on (None: no limit);
    ``probability`` is the chance it fires on each matching request.
    """

    action: FaultAction
    method: str = "*"
    code: int | None = None
    count: int | None = None
    probability: float = 1.0
    drop: DropMode = DropMode.HANG

    def __post_init__(self) -> None:
        if not self.method:
            raise ValueError("fault rule: method pattern must not be empty")
        if self.action is FaultAction.ERROR:
            if self.code is None:
                raise ValueError("fault rule: an error rule needs a Deribit error code")
        elif self.code is not None:
            raise ValueError(f"fault rule: only error rules carry a code, not {self.action}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"fault rule: count must be at least 1, got {self.count}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault rule: probability must be in [0, 1], got {self.probability}")

    def as_error(self) -> SimError:
        """The Deribit error an error rule answers with, with Deribit's message for its code."""
        if self.code is None:
            raise ValueError(f"a {self.action} rule carries no error")
        return SimError(self.code, MESSAGES.get(self.code, "injected_error"))

    def to_json(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "method": self.method,
            "code": self.code,
            "count": self.count,
            "probability": self.probability,
            "drop": str(self.drop),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FaultRule:
        """Build a rule from its JSON form; unknown keys are an error, not ignored."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"fault rule must be a JSON object, got {raw!r}")
        unknown = set(raw) - {"action", "method", "code", "count", "probability", "drop"}
        if unknown:
            raise ValueError(f"fault rule: unknown field(s) {', '.join(sorted(unknown))}")
        actions = tuple(a.value for a in FaultAction)
        if raw.get("action") not in actions:
            raise ValueError(f"fault rule: 'action' must be one of {', '.join(actions)}")
        drops = tuple(d.value for d in DropMode)
        if raw.get("drop", DropMode.HANG.value) not in drops:
            raise ValueError(f"fault rule: 'drop' must be one of {', '.join(drops)}")
        try:
            return cls(
                action=FaultAction(raw["action"]),
                method=str(raw.get("method", "*")),
                code=None if raw.get("code") is None else int(raw["code"]),
                count=None if raw.get("count") is None else int(raw["count"]),
                probability=float(raw.get("probability", 1.0)),
                drop=DropMode(raw.get("drop", DropMode.HANG)),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"fault rule {dict(raw)!r}: {exc}") from exc


class Faults:
    """The live set of fault knobs of one emulator; changed at run time by tests or admin.

    ``decide`` is the one place a rule fires, so rule counts and the seeded
    random stream advance only there, once per request and rule tried.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_ms: int = 0,
        latency_method: str = "*",
        stale_marks: str | None = None,
        empty_positions: str | None = None,
        rules: Iterable[FaultRule] = (),
    ) -> None:
        self._rng = random.Random(seed)
        self.seed = seed
        self._latency_ms = 0
        self._latency_method = "*"
        self._stale_marks: str | None = None
        self._empty_positions: str | None = None
        self._rules: list[FaultRule] = []
        self.ws_stall: str | None = None
        self.ws_delay_ms = 0
        self.ws_reorder = False
        self.ws_drop_messages = 0
        self._ws_disconnect = False
        self.set_latency(latency_ms, method=latency_method)
        self.set_stale_marks(stale_marks)
        self.set_empty_positions(empty_positions)
        for rule in rules:
            self.add(rule)

    # -- setters ---------------------------------------------------------------------------

    def set_latency(self, ms: int, *, method: str = "*") -> None:
        """Delay every request matching ``method`` by ``ms`` milliseconds (0: off)."""
        if ms < 0:
            raise ValueError(f"latency must be >= 0 ms, got {ms}")
        self._latency_ms, self._latency_method = int(ms), method

    def set_stale_marks(self, method: str | None = "*") -> None:
        """Freeze market data of methods matching ``method`` at their last answer (None: off);
        the default, every market-data method of the dialect."""
        self._stale_marks = method

    def set_empty_positions(self, method: str | None = "*") -> None:
        """Answer position reads matching ``method`` with an empty list (None: off); the
        default, every position read of the dialect."""
        self._empty_positions = method

    def stall_ws(self, channel: str | None) -> None:
        """Push nothing more on subscriptions whose channel matches ``channel`` (None: off)."""
        self.ws_stall = channel or None

    def delay_ws(self, ms: int, *, reorder: bool = False) -> None:
        """Hold every websocket push ``ms`` milliseconds; ``reorder`` swaps pushes in pairs."""
        if ms < 0:
            raise ValueError(f"ws delay must be >= 0 ms, got {ms}")
        self.ws_delay_ms, self.ws_reorder = int(ms), reorder

    def drop_ws_messages(self, count: int = 1) -> None:
        """Lose the next ``count`` websocket pushes (each subscriber's message counts once)."""
        if count < 0:
            raise ValueError(f"ws_drop_messages must be >= 0, got {count}")
        self.ws_drop_messages = count

    def disconnect_ws(self) -> None:
        """Close every websocket connection at the next push round (once)."""
        self._ws_disconnect = True

    def add(self, rule: FaultRule) -> None:
        """Append a rule; rules are tried in the order they were added."""
        self._rules.append(rule)

    def inject_error(
        self, code: int, *, method: str = "*", count: int | None = None, probability: float = 1.0
    ) -> None:
        """Answer matching requests with Deribit error ``code`` (next ``count`` of them)."""
        self.add(FaultRule(FaultAction.ERROR, method, code, count, probability))

    def drop(
        self,
        action: FaultAction,
        *,
        method: str,
        count: int | None = 1,
        mode: DropMode = DropMode.HANG,
        probability: float = 1.0,
    ) -> None:
        """Leave matching requests unanswered, before or after the engine ran them."""
        if action is FaultAction.ERROR:
            raise ValueError("drop() takes drop_before_seen or fill_then_drop, not error")
        self.add(FaultRule(action, method, None, count, probability, mode))

    def clear(self) -> None:
        """Switch every knob off (the random stream keeps its position)."""
        self._latency_ms, self._latency_method = 0, "*"
        self._stale_marks = self._empty_positions = None
        self._rules.clear()
        self.ws_stall, self.ws_delay_ms, self.ws_reorder = None, 0, False
        self.ws_drop_messages, self._ws_disconnect = 0, False

    # -- queries used by the facade ---------------------------------------------------------

    def latency_ms(self, method: str) -> int:
        """Delay to apply to ``method`` before handling it."""
        return self._latency_ms if fnmatchcase(method, self._latency_method) else 0

    def stale_marks(self, method: str) -> bool:
        """Whether ``method`` must replay its last market-data answer."""
        return (
            method in MARKET_DATA_METHODS
            and self._stale_marks is not None
            and fnmatchcase(method, self._stale_marks)
        )

    def empty_positions(self, method: str) -> bool:
        """Whether ``method`` must answer with no positions."""
        return (
            method in POSITION_METHODS
            and self._empty_positions is not None
            and fnmatchcase(method, self._empty_positions)
        )

    def ws_stalled(self, channel: str) -> bool:
        """Whether pushes on ``channel`` are silently withheld."""
        return self.ws_stall is not None and fnmatchcase(channel, self.ws_stall)

    def take_ws_drop(self) -> bool:
        """Whether this push is lost; consumes one of the ``ws_drop_messages``."""
        if self.ws_drop_messages <= 0:
            return False
        self.ws_drop_messages -= 1
        return True

    def take_ws_disconnect(self) -> bool:
        """Whether the websockets must be closed now; true once per :meth:`disconnect_ws`."""
        pending, self._ws_disconnect = self._ws_disconnect, False
        return pending

    def decide(self, method: str) -> FaultRule | None:
        """The rule that fires on this request of ``method``, if any; consumes its count."""
        for i, rule in enumerate(self._rules):
            if not fnmatchcase(method, rule.method):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                if rule.count == 1:
                    del self._rules[i]
                else:
                    self._rules[i] = replace(rule, count=rule.count - 1)
            return rule
        return None

    # -- JSON form (CLI and admin endpoint) -------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "latency_ms": self._latency_ms,
            "latency_method": self._latency_method,
            "stale_marks": self._stale_marks,
            "empty_positions": self._empty_positions,
            "rules": [rule.to_json() for rule in self._rules],
            "ws_stall": self.ws_stall,
            "ws_delay_ms": self.ws_delay_ms,
            "ws_reorder": self.ws_reorder,
            "ws_drop_messages": self.ws_drop_messages,
            "ws_disconnect": self._ws_disconnect,
        }

    def update_from_json(self, raw: Mapping[str, Any]) -> None:
        """Apply the knobs named in ``raw``; rules given replace the current rules.

        Everything is validated before anything changes, so a bad request
        leaves the knobs as they were.
        """
        unknown = set(raw) - {
            "latency_ms",
            "latency_method",
            "stale_marks",
            "empty_positions",
            "rules",
            *_WS_FIELDS,
        }
        if unknown:
            raise ValueError(f"faults: unknown field(s) {', '.join(sorted(unknown))}")
        rules_raw = raw.get("rules")
        if rules_raw is not None and not isinstance(rules_raw, list):
            raise ValueError("faults: 'rules' must be a list")
        rules = self._rules if rules_raw is None else [FaultRule.from_json(r) for r in rules_raw]
        latency = _int_field(raw, "latency_ms", self._latency_ms)
        if latency < 0:
            raise ValueError(f"latency must be >= 0 ms, got {latency}")
        stale = self._stale_marks
        if "stale_marks" in raw:
            stale = _optional_pattern(raw["stale_marks"], "*")
        empty = self._empty_positions
        if "empty_positions" in raw:
            empty = _optional_pattern(raw["empty_positions"], "*")
        ws = _ws_fields(raw, self)
        self._latency_ms = latency
        self.ws_stall, self.ws_delay_ms, self.ws_reorder, self.ws_drop_messages = ws[:4]
        self._ws_disconnect = self._ws_disconnect or ws[4]
        self._latency_method = str(raw.get("latency_method", self._latency_method))
        self._stale_marks, self._empty_positions, self._rules = stale, empty, rules

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], *, seed: int = 0) -> Faults:
        """Knobs from their JSON form (the ``--faults`` CLI option)."""
        faults = cls(seed=_int_field(raw, "seed", seed))
        faults.update_from_json({k: v for k, v in raw.items() if k != "seed"})
        return faults


_WS_FIELDS = ("ws_stall", "ws_delay_ms", "ws_reorder", "ws_drop_messages", "ws_disconnect")


def _ws_fields(raw: Mapping[str, Any], now: Faults) -> tuple[str | None, int, bool, int, bool]:
    """The websocket knobs named in ``raw`` (the others as they are), validated."""
    stall = now.ws_stall
    if "ws_stall" in raw:
        stall = _optional_pattern(raw["ws_stall"], "*")
    delay = _int_field(raw, "ws_delay_ms", now.ws_delay_ms)
    drops = _int_field(raw, "ws_drop_messages", now.ws_drop_messages)
    if delay < 0 or drops < 0:
        raise ValueError("faults: ws_delay_ms and ws_drop_messages must be >= 0")
    flags = []
    for name, default in (("ws_reorder", now.ws_reorder), ("ws_disconnect", False)):
        value = raw.get(name, default)
        if not isinstance(value, bool):
            raise ValueError(f"faults: {name!r} must be true or false, got {value!r}")
        flags.append(value)
    return stall, delay, flags[0], drops, flags[1]


def _int_field(raw: Mapping[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"faults: {name!r} must be an integer, got {value!r}")
    return value


def _optional_pattern(value: object, default: str) -> str | None:
    """JSON knob value: true means the default pattern, false/null off, a string a pattern."""
    if value is True:
        return default
    if value is False or value is None:
        return None
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"faults: expected true, false, null or a method pattern, got {value!r}")
