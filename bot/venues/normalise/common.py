"""Strict readers for venue payloads, and the per-market facts the adapter keeps.

Venues return numbers as strings, empty strings for "not applicable" and
nulls for "not yet". A missing or garbled field must stop the poll with a
message naming the field and the instrument, never become a silent zero that
the hedger would then trade on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import Instrument
from bot.domain.snapshot import Mark

Payload = Mapping[str, Any]
"""One JSON object as ccxt hands it over (a unified structure or its raw ``info``)."""


class MalformedResponseError(ValueError):
    """A venue payload lacks a field, has the wrong type, or contradicts itself."""


def mapping(value: object, where: str) -> Payload:
    """``value`` as a JSON object, or MalformedResponseError naming ``where``."""
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def info(payload: Payload, where: str) -> Payload:
    """The raw venue object ccxt keeps under ``info``."""
    return mapping(payload.get("info"), f"{where}.info")


def _to_float(value: object, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedResponseError(f"{where}: expected a number, got a boolean")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            raise MalformedResponseError(f"{where}: expected a number, got {value!r}") from None
    else:
        raise MalformedResponseError(f"{where}: expected a number, got {type(value).__name__}")
    if not math.isfinite(out):
        raise MalformedResponseError(f"{where}: expected a finite number, got {value!r}")
    return out


def opt_num(payload: Payload, key: str, where: str) -> float | None:
    """A number that may be absent (missing, null or empty string: None)."""
    return _to_float(payload.get(key), f"{where}.{key}")


def num(payload: Payload, key: str, where: str) -> float:
    """A required finite number; numeric strings are accepted, as venues send them."""
    out = opt_num(payload, key, where)
    if out is None:
        raise MalformedResponseError(f"{where}: missing number {key!r}")
    return out


def positive(payload: Payload, key: str, where: str) -> float:
    out = num(payload, key, where)
    if out <= 0:
        raise MalformedResponseError(f"{where}.{key}: expected a positive number, got {out!r}")
    return out


def opt_positive(payload: Payload, key: str, where: str) -> float | None:
    """A positive number, or None when absent or zero (venues send 0 for 'no quote')."""
    out = opt_num(payload, key, where)
    if out is None or out == 0:
        return None
    if out < 0:
        raise MalformedResponseError(f"{where}.{key}: expected a number >= 0, got {out!r}")
    return out


def text(payload: Payload, key: str, where: str) -> str:
    """A required non-empty string."""
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"{where}: missing text field {key!r} (got {value!r})")
    return value


def opt_text(payload: Payload, key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def ms(payload: Payload, key: str, where: str) -> int:
    """A required epoch-milliseconds timestamp (int or numeric string)."""
    out = num(payload, key, where)
    if out < 0 or out != int(out):
        raise MalformedResponseError(f"{where}.{key}: expected epoch milliseconds, got {out!r}")
    return int(out)


def opt_ms(payload: Payload, key: str, where: str) -> int | None:
    return None if payload.get(key) in (None, "") else ms(payload, key, where)


@dataclass(frozen=True, slots=True)
class VenueMarket:
    """An instrument plus what the adapter needs to talk to the venue about it.

    ``contract_value`` converts ccxt's amount (the venue's wire unit, often
    "contracts") to ``instrument.amount_unit``: 100 for an OKX BTC-USD-SWAP
    contract of 100 USD, 0.01 for an OKX BTC option contract of 0.01 BTC, 1 on
    Deribit, whose wire amounts already are USD (inverse) or coin (options).
    ``wire_lot`` is the order step in wire units.
    """

    instrument: Instrument
    market_id: str
    contract_value: float
    wire_lot: float
    raw: Payload = field(repr=False, compare=False)

    @property
    def symbol(self) -> Symbol:
        return self.instrument.symbol

    def to_amount(self, wire: float) -> float:
        """Domain amount (instrument ``amount_unit``) of a wire amount."""
        return wire * self.contract_value

    def to_wire(self, amount: float) -> float:
        return amount / self.contract_value


@dataclass(frozen=True, slots=True)
class MarkBatch:
    """Marks read in one pass, plus the USD index per underlying when the venue gave one
    and the venue's time of each index (the time of the payload it came from)."""

    marks: Mapping[Symbol, Mark]
    index_usd: Mapping[Currency, float]
    index_ts_ms: Mapping[Currency, int]


@dataclass(frozen=True, slots=True)
class VenueDelta:
    """The venue's Black-Scholes delta per unit of one option, and the venue's time of it."""

    delta: float
    ts_ms: int
