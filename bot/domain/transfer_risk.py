"""The transfer gate: which collateral transfers may be sent (issue 5 §2).

Transfers are intents like orders: journaled before sending, and judged here
first by a pure function of the intents, the ledger of recent transfers, the
limits, the whitelist and the time. Checks, in order: trading HALTED (deny
all; REDUCING does not block, since topping up margin is how a venue gets
out of it); then per transfer: destination not whitelisted, the per-transfer
USD cap, the rolling-24h USD cap. Every kind counts toward the caps (a
runaway loop of sub-account moves is a bug worth stopping too). A denied
transfer uses none of the budget.

The 24h window is half-open, ``(now - 24h, now]``, and sums use
:func:`math.fsum`, as in :mod:`bot.domain.risk`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.collateral.plan import PlannedTransfer
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferKind, TransferRequest
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.trading_state import TradingMode, TradingState


@dataclass(frozen=True, slots=True)
class TransferLimits:
    """Largest single transfer and largest total in any rolling 24 hours, both USD."""

    max_transfer_usd: float
    max_daily_transfer_usd: float

    def __post_init__(self) -> None:
        for name in ("max_transfer_usd", "max_daily_transfer_usd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"transfer limits: {name} must be > 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class WhitelistedAddress:
    """A withdrawal destination an operator approved: exact venue, currency, address, network."""

    venue: VenueId
    currency: Currency
    address: str
    network: str | None = None


@dataclass(frozen=True, slots=True)
class TransferWhitelist:
    """Where transfers may go: approved withdrawal addresses and known sub-accounts."""

    addresses: frozenset[WhitelistedAddress] = frozenset()
    sub_accounts: frozenset[tuple[VenueId, str]] = frozenset()

    def problem(self, request: TransferRequest) -> str | None:
        """Why ``request`` is not allowed, or None if it is."""
        if request.kind is TransferKind.SUBACCOUNT:
            if (request.venue, request.destination) in self.sub_accounts:
                return None
            return f"sub-account {request.destination!r} of {request.venue} is not whitelisted"
        wanted = WhitelistedAddress(
            request.venue, request.currency, request.destination, request.network
        )
        if wanted in self.addresses:
            return None
        return (
            f"{request.currency} address {request.destination!r} (network {request.network}) "
            f"from {request.venue} is not whitelisted"
        )


@dataclass(frozen=True, slots=True)
class TransferIntent:
    """A transfer the engine wants to send and its value in USD at the snapshot prices."""

    request: TransferRequest
    amount_usd: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.amount_usd) and self.amount_usd > 0):
            raise ValueError(
                f"transfer intent {self.request.transfer_id}: amount_usd must be > 0, "
                f"got {self.amount_usd!r}"
            )

    @classmethod
    def from_planned(cls, planned: PlannedTransfer) -> TransferIntent:
        return cls(planned.to_request(), planned.amount_usd)


@dataclass(frozen=True, slots=True)
class TransferSend:
    """One transfer already sent (or journaled to be sent) at ``ts_ms``."""

    ts_ms: int
    amount_usd: float


@dataclass(frozen=True, slots=True)
class TransferLedger:
    """Recent transfers, as the journal recorded them."""

    sends: tuple[TransferSend, ...] = ()

    def within(self, now_ms: int, window_ms: int) -> list[float]:
        """USD of the sends inside ``(now_ms - window_ms, now_ms]`` or later."""
        return [s.amount_usd for s in self.sends if s.ts_ms > now_ms - window_ms]


class TransferDenyReason(StrEnum):
    HALTED = "trading halted"
    NOT_WHITELISTED = "destination not whitelisted"
    TRANSFER_CAP = "per-transfer cap"
    DAILY_CAP = "daily transfer cap"


@dataclass(frozen=True, slots=True)
class TransferDenial:
    intent: TransferIntent
    reason: TransferDenyReason
    detail: str

    @property
    def message(self) -> str:
        return f"{self.reason.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class TransferDecision:
    approved: tuple[TransferIntent, ...]
    denied: tuple[TransferDenial, ...]


def evaluate_transfers(
    intents: Iterable[TransferIntent],
    *,
    ledger: TransferLedger,
    limits: TransferLimits,
    whitelist: TransferWhitelist,
    trading_state: TradingState,
    now_ms: int,
) -> TransferDecision:
    """Approve or deny each transfer, in order; approvals are assumed sent at ``now_ms``."""
    intents = tuple(intents)
    ids = [i.request.transfer_id for i in intents]
    if len(set(ids)) != len(ids):
        raise ValueError(f"transfer gate: duplicate transfer ids among intents: {ids}")
    if trading_state.mode is TradingMode.HALTED:
        denied = tuple(
            TransferDenial(i, TransferDenyReason.HALTED, trading_state.reason) for i in intents
        )
        return TransferDecision((), denied)
    day_used = ledger.within(now_ms, MS_PER_DAY)
    approved: list[TransferIntent] = []
    refused: list[TransferDenial] = []
    for intent in intents:
        usd = intent.amount_usd
        not_allowed = whitelist.problem(intent.request)
        problem: tuple[TransferDenyReason, str] | None = None
        if not_allowed is not None:
            problem = (TransferDenyReason.NOT_WHITELISTED, not_allowed)
        elif usd > limits.max_transfer_usd:
            problem = (
                TransferDenyReason.TRANSFER_CAP,
                f"{usd:.2f} USD > {limits.max_transfer_usd:.2f} USD",
            )
        elif math.fsum([*day_used, usd]) > limits.max_daily_transfer_usd:
            problem = (
                TransferDenyReason.DAILY_CAP,
                f"{math.fsum(day_used):.2f} USD moved in the last 24 h + {usd:.2f} USD "
                f"> {limits.max_daily_transfer_usd:.2f} USD",
            )
        if problem is None:
            approved.append(intent)
            day_used.append(usd)
        else:
            refused.append(TransferDenial(intent, *problem))
    return TransferDecision(tuple(approved), tuple(refused))
