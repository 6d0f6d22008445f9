"""Fault knobs of the Deribit emulator: what a real venue does to a hedger on a bad day.

The knobs exist so tests and demos can show what the bot does when the venue
is slow, refuses, answers an order it executed with silence, or serves stale
marks: the cases where a naive hedger double-sends or hedges on a lie.

Each knob targets JSON-RPC methods by a glob over the method name
(``"private/buy"``, ``"private/*"``, ``"*"``). Randomness comes from one
seeded generator, so a run with the same seed and request sequence fires the
same faults.
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
    }
)
"""Methods whose answers the stale-marks knob freezes."""

POSITION_METHODS = frozenset({"private/get_positions"})
"""Methods the empty-positions knob answers with an empty list."""


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

    def set_stale_marks(self, method: str | None = "public/*") -> None:
        """Freeze market data of methods matching ``method`` at their last answer (None: off)."""
        self._stale_marks = method

    def set_empty_positions(self, method: str | None = "private/get_positions") -> None:
        """Answer position reads matching ``method`` with an empty list (None: off)."""
        self._empty_positions = method

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
            stale = _optional_pattern(raw["stale_marks"], "public/*")
        empty = self._empty_positions
        if "empty_positions" in raw:
            empty = _optional_pattern(raw["empty_positions"], "private/get_positions")
        self._latency_ms = latency
        self._latency_method = str(raw.get("latency_method", self._latency_method))
        self._stale_marks, self._empty_positions, self._rules = stale, empty, rules

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], *, seed: int = 0) -> Faults:
        """Knobs from their JSON form (the ``--faults`` CLI option)."""
        faults = cls(seed=_int_field(raw, "seed", seed))
        faults.update_from_json({k: v for k, v in raw.items() if k != "seed"})
        return faults


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
