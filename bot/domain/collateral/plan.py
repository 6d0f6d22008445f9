"""Outputs of the collateral optimizer: the transfer plan, account outcomes, and why not.

A plan is deterministic: its id hashes the snapshot and the settings, and each
transfer's idempotency id hashes the plan id and the transfer's place in it,
so a restart (or ``deltabot collateral approve ID``) re-derives the same ids.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.domain.collateral.model import AccountKey, Route
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest

PLAN_ID_PREFIX: Final = "cp"
TRANSFER_ID_PREFIX: Final = "tr"
_ID_LENGTH: Final = 32


_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""``json.dumps(parts, sort_keys=True, separators=(",", ":"))`` made once, not per id."""


def _digest(prefix: str, parts: object) -> str:
    key = _CANONICAL.encode(parts).encode()
    return prefix + hashlib.blake2b(key, digest_size=(_ID_LENGTH - len(prefix)) // 2).hexdigest()


def plan_id(canonical_inputs: object) -> str:
    """``cp`` + 30 hex digits of a hash of the (JSON-able, canonically ordered) inputs."""
    return _digest(PLAN_ID_PREFIX, canonical_inputs)


def transfer_id(plan: str, seq: int, route: Route) -> TransferId:
    """Idempotency id of the ``seq``-th transfer of ``plan``: alphanumeric, 32 characters."""
    parts = [plan, seq, *map(str, route.sort_key)]
    return TransferId(_digest(TRANSFER_ID_PREFIX, parts))


class AccountStatus(StrEnum):
    BELOW_FLOOR = "below_floor"
    IN_BAND = "in_band"
    ABOVE_CEILING = "above_ceiling"


class PlanStatus(StrEnum):
    IN_BAND = "in_band"
    """Every account inside its band and every venue within its caps: nothing planned."""
    OPTIMAL = "optimal"
    """Every constraint met (floors, targets of accounts below floor, caps)."""
    PARTIAL = "partial"
    """Every floor met, but a cap, a target or a donor's target had to give."""
    FLOOR_UNREACHABLE = "floor_unreachable"
    """At least one floor cannot be restored: its venue should go REDUCING."""


class ShortfallReason(StrEnum):
    NO_ROUTE = "no route"
    """No sub-account sibling and no whitelisted withdrawal route reaches the account."""
    NOT_ENOUGH_COLLATERAL = "not enough free collateral"
    """Everything the connected accounts can spare (above their floors) is too little."""
    MINIMUM_SIZE = "withdrawal minimum"
    """A route into the account needs more than its source can withdraw."""
    VENUE_CAP = "venue cap"
    """The venue's absolute or share cap leaves too little room."""
    JOINT_LIMITS = "joint limits"
    """No single cause: supply, other deficits, caps and minimums together fall short."""


@dataclass(frozen=True, slots=True)
class PlannedTransfer:
    """One move of the plan; ``amount_coin`` is debited, ``credited_coin`` arrives.

    ``eta_ms`` is when the destination should be credited (snapshot time + delay).
    """

    transfer_id: TransferId
    seq: int
    route: Route
    amount_coin: float
    fee_coin: float
    amount_usd: float
    eta_ms: int

    @property
    def credited_coin(self) -> float:
        return self.amount_coin - self.fee_coin

    @property
    def asset(self) -> Currency:
        return self.route.asset

    def to_request(self) -> TransferRequest:
        """The executor's request; the source sub-account stays on ``route.source``.

        A sub-account transfer names the destination sub-account; a withdrawal
        the whitelisted address and network.
        """
        route = self.route
        if route.kind is TransferKind.SUBACCOUNT:
            destination = route.destination.sub_account
        else:
            destination = route.address or ""
        return TransferRequest(
            transfer_id=self.transfer_id,
            venue=route.source.venue,
            kind=route.kind,
            currency=route.asset,
            amount=self.amount_coin,
            destination=destination,
            network=route.network,
        )


@dataclass(frozen=True, slots=True)
class TransferPlan:
    """The transfers of one plan, in sending order (sub-account moves first: they may
    fund a withdrawal of the same plan)."""

    plan_id: str
    ts_ms: int
    transfers: tuple[PlannedTransfer, ...]

    def requests(self) -> tuple[TransferRequest, ...]:
        return tuple(t.to_request() for t in self.transfers)


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """An account before and after the plan, USD; ``before`` counts in-flight transfers."""

    account: AccountKey
    status: AccountStatus
    equity_before_usd: float
    equity_after_usd: float
    floor_usd: float
    target_usd: float
    ceiling_usd: float
    """inf: no ceiling."""

    @property
    def floor_shortfall_usd(self) -> float:
        return max(0.0, self.floor_usd - self.equity_after_usd)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An account whose floor the plan cannot restore, by how much, and why."""

    account: AccountKey
    shortfall_usd: float
    reasons: tuple[tuple[ShortfallReason, str], ...]

    @property
    def message(self) -> str:
        why = "; ".join(f"{r.value}: {d}" for r, d in self.reasons)
        return f"{self.account} stays {self.shortfall_usd:.2f} USD below its floor ({why})"


@dataclass(frozen=True, slots=True)
class CapBreach:
    """A venue left above a cap ("absolute" or "share") by ``excess_usd``."""

    venue: VenueId
    cap: str
    excess_usd: float


@dataclass(frozen=True, slots=True)
class PlanCost:
    """The plan's cost against doing nothing, USD over the horizon (negative: a saving)."""

    fees_usd: float = 0.0
    idle_usd: float = 0.0
    trust_usd: float = 0.0

    @property
    def total_usd(self) -> float:
        return math.fsum((self.fees_usd, self.idle_usd, self.trust_usd))


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What the optimizer decided for one snapshot, and what it could not do."""

    status: PlanStatus
    plan: TransferPlan
    accounts: tuple[AccountOutcome, ...]
    cost: PlanCost
    shortfalls: tuple[Shortfall, ...] = ()
    cap_breaches: tuple[CapBreach, ...] = ()
    notes: tuple[str, ...] = ()
    """Softer things that had to give: targets not reached, donors taken below target."""
    gap_usd: float = 0.0
    """Proven bound on how much cheaper a plan could be (plan cost minus the LP bound), USD."""

    @property
    def plan_id(self) -> str:
        return self.plan.plan_id

    @property
    def floors_met(self) -> bool:
        return not self.shortfalls

    @property
    def reducing_venues(self) -> frozenset[VenueId]:
        """Venues with an account whose floor cannot be restored: the engine's REDUCING set."""
        return frozenset(s.account.venue for s in self.shortfalls)
