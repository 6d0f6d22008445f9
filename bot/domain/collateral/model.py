"""Inputs of the collateral optimizer: accounts, bands, trust, routes, in-flight transfers.

All values are frozen and validated on construction, so the optimizer can
trust them. An *account* is a (venue, sub-account) pair: the unit that has a
margin requirement. A *venue* is the unit of counterparty trust: its caps and
its trust score cover all of its sub-accounts together.

The margin band is on the ratio equity / maintenance margin (MM), not on a
USD headroom. Liquidation happens where equity falls to MM, so the ratio is
the distance to liquidation in one number that means the same on a small and
a large book; a USD headroom band would need re-sizing every time the book
grows. The constraints stay linear because a collateral move changes equity,
not MM: ``equity' >= floor * MM`` is one row per account.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferKind
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR

RouteKey = tuple[str, "AccountKey", "AccountKey", str, str, str]
"""(kind, source, destination, asset, address, network): a route's place in the solver order."""


def _finite(owner: str, name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")


def _non_negative(owner: str, name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")


def _frozen_map(
    owner: str,
    name: str,
    values: Mapping[Currency, float],
    *,
    lo: float = 0.0,
    hi: float = math.inf,
) -> Mapping[Currency, float]:
    """A read-only copy sorted by currency, every value finite and in ``[lo, hi]``."""
    for key, value in values.items():
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"{owner}: {name}[{key}] must be in [{lo}, {hi}], got {value!r}")
    return MappingProxyType(dict(sorted(values.items())))


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """One margin account: a sub-account (as the venue names it) of a venue."""

    venue: VenueId
    sub_account: str
    _hash: int = field(init=False, repr=False, compare=False)
    """The fields' hash, made once: accounts key the optimizer's maps (issue 18: hashed
    40,000 times a plan at 50 venues, the generated ``__hash__`` built a tuple each time)."""

    def __post_init__(self) -> None:
        if not self.venue or not self.sub_account:
            raise ValueError(f"account {self.venue}/{self.sub_account}: both parts are required")
        object.__setattr__(self, "_hash", hash((self.venue, self.sub_account)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[AccountKey], tuple[VenueId, str]]:
        """Pickled by its fields, so another process (a what-if worker) hashes it anew:
        ``str`` hashes differ between processes."""
        return AccountKey, (self.venue, self.sub_account)

    def __str__(self) -> str:
        return f"{self.venue}/{self.sub_account}"


@dataclass(frozen=True, slots=True)
class MarginBand:
    """Floor, target and ceiling of equity / MM (ratios; ceiling None: no ceiling).

    Hysteresis: an account inside ``[floor, ceiling]`` triggers nothing; one
    outside it triggers a plan that brings it back to ``target``.
    """

    floor: float
    target: float
    ceiling: float | None = None

    def __post_init__(self) -> None:
        _non_negative("margin band", "floor", self.floor)
        ceiling = math.inf if self.ceiling is None else self.ceiling
        if not (math.isfinite(self.target) and self.floor <= self.target <= ceiling):
            raise ValueError(
                f"margin band: need 0 <= floor <= target <= ceiling, got "
                f"{self.floor}, {self.target}, {self.ceiling}"
            )
        if self.ceiling is not None and not math.isfinite(self.ceiling):
            raise ValueError("margin band: ceiling must be finite (None: no ceiling)")


@dataclass(frozen=True, slots=True)
class TrustSettings:
    """How far a venue is trusted with collateral.

    ``score`` in [0, 1] (1: no exposure penalty); ``max_share_frac`` caps the
    venue's share of total collateral, ``max_collateral_usd`` its absolute
    amount (None: no cap). A proof-of-reserves attestation older than
    ``max_attestation_age_ms`` at the snapshot time, or missing while an age
    is required, multiplies the score by ``stale_score_factor``.
    """

    score: float = 1.0
    max_share_frac: float = 1.0
    max_collateral_usd: float | None = None
    attestation_ts_ms: int | None = None
    max_attestation_age_ms: int | None = None
    stale_score_factor: float = 0.5

    def __post_init__(self) -> None:
        for name in ("score", "stale_score_factor"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"trust: {name} must be in [0, 1], got {value!r}")
        if not (math.isfinite(self.max_share_frac) and 0 < self.max_share_frac <= 1):
            raise ValueError(f"trust: max_share_frac must be in (0, 1], got {self.max_share_frac}")
        if self.max_collateral_usd is not None:
            _non_negative("trust", "max_collateral_usd", self.max_collateral_usd)
        if self.max_attestation_age_ms is not None and self.max_attestation_age_ms <= 0:
            raise ValueError("trust: max_attestation_age_ms must be > 0")

    def is_stale(self, now_ms: int) -> bool:
        """Whether the attestation is missing or too old at ``now_ms`` (never without a max age)."""
        if self.max_attestation_age_ms is None:
            return False
        if self.attestation_ts_ms is None:
            return True
        return now_ms - self.attestation_ts_ms > self.max_attestation_age_ms

    def effective_score(self, now_ms: int) -> float:
        return self.score * (self.stale_score_factor if self.is_stale(now_ms) else 1.0)


DEFAULT_TRUST: Final = TrustSettings()


@dataclass(frozen=True, slots=True)
class Route:
    """One way to move ``asset`` from ``source`` to ``destination``.

    A withdrawal debits ``amount`` at the source and credits ``amount - fee_coin``
    at the destination after ``delay_ms``; ``min_coin`` is the smallest amount
    the venue accepts; ``address`` (whitelisted) and ``network`` say where it goes.
    Sub-account routes (free, instant) are added by the optimizer for every
    pair of accounts of one venue and need not be listed.
    """

    source: AccountKey
    destination: AccountKey
    asset: Currency
    kind: TransferKind = TransferKind.WITHDRAWAL
    fee_coin: float = 0.0
    min_coin: float = 0.0
    delay_ms: int = 0
    address: str | None = None
    network: str | None = None
    _sort_key: RouteKey = field(init=False, repr=False, compare=False, hash=False)
    """:attr:`sort_key`, made once: the frame, the plan id and the solver order all sort
    by it (issue 18: rebuilt on every call, it was 30 ms a plan at 50 venues)."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_sort_key",
            (
                self.kind.value,
                self.source,
                self.destination,
                self.asset,
                self.address or "",
                self.network or "",
            ),
        )
        owner = f"route {self.source} -> {self.destination} {self.asset}"
        _non_negative(owner, "fee_coin", self.fee_coin)
        _non_negative(owner, "min_coin", self.min_coin)
        if self.delay_ms < 0:
            raise ValueError(f"{owner}: delay_ms must be >= 0")
        same_venue = self.source.venue == self.destination.venue
        if self.kind is TransferKind.SUBACCOUNT:
            if not same_venue or self.source == self.destination:
                raise ValueError(f"{owner}: a sub-account transfer stays inside one venue")
        elif self.kind is TransferKind.WITHDRAWAL:
            if same_venue:
                raise ValueError(f"{owner}: a withdrawal goes to another venue")
            if not self.address:
                raise ValueError(f"{owner}: a withdrawal needs a whitelisted address")
        else:
            raise ValueError(f"{owner}: deposits arrive, they are not routes")

    @property
    def min_effective_coin(self) -> float:
        """Smallest amount worth sending: the venue minimum, and never less than the fee."""
        return max(self.min_coin, self.fee_coin)

    @property
    def sort_key(self) -> RouteKey:
        return self._sort_key


@dataclass(frozen=True, slots=True)
class InFlightTransfer:
    """A transfer already sent and not yet credited: counts at its destination."""

    destination: AccountKey
    asset: Currency
    amount_coin: float
    """What will be credited (after the fee), coin."""

    def __post_init__(self) -> None:
        _non_negative(f"in-flight transfer to {self.destination}", "amount_coin", self.amount_coin)


@dataclass(frozen=True, slots=True)
class AccountCollateral:
    """One account as the snapshot saw it, all money in USD except per-asset amounts (coin).

    ``free_coin`` is what the venue lets us withdraw or transfer now, per asset;
    ``haircut_frac`` the collateral value per USD of an asset credited here
    (default 1); ``idle_cost_frac_per_year`` the interest or opportunity cost
    of holding the asset here, per year (default 0).
    """

    account: AccountKey
    equity_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    band: MarginBand
    free_coin: Mapping[Currency, float] = field(default_factory=dict)
    haircut_frac: Mapping[Currency, float] = field(default_factory=dict)
    idle_cost_frac_per_year: Mapping[Currency, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = f"account {self.account}"
        _finite(owner, "equity_usd", self.equity_usd)
        _non_negative(owner, "initial_margin_usd", self.initial_margin_usd)
        _non_negative(owner, "maintenance_margin_usd", self.maintenance_margin_usd)
        setattr_ = object.__setattr__
        setattr_(self, "free_coin", _frozen_map(owner, "free_coin", self.free_coin))
        setattr_(self, "haircut_frac", _frozen_map(owner, "haircut_frac", self.haircut_frac, hi=1))
        rates = _frozen_map(owner, "idle_cost_frac_per_year", self.idle_cost_frac_per_year, lo=-1)
        setattr_(self, "idle_cost_frac_per_year", rates)

    def haircut(self, asset: Currency) -> float:
        return self.haircut_frac.get(asset, 1.0)

    def idle_rate(self, asset: Currency) -> float:
        return self.idle_cost_frac_per_year.get(asset, 0.0)

    def requirement_usd(self, level: float | None) -> float:
        """Equity at ``level`` times MM, USD (inf for no ceiling)."""
        return math.inf if level is None else level * self.maintenance_margin_usd


@dataclass(frozen=True, slots=True)
class OptimizerSettings:
    """How costs over time are weighed against one-off fees.

    ``horizon_ms`` is how long a new allocation is expected to last: annual
    idle and trust rates are charged over it. ``trust_penalty_frac_per_year``
    is the yearly penalty on each USD at a venue of trust score 0 (score s pays
    ``(1 - s)`` of it). A plan whose cost is within ``accept_gap_usd`` of the
    LP bound is taken without branch and bound; otherwise the MILP runs, and
    ``node_limit`` bounds it deterministically (a time limit would make the
    plan depend on machine load). ``accept_gap_frac`` widens that acceptance to a
    fraction of the bound's size, HiGHS's relative MIP gap: on 50 venues x 4 assets
    the absolute 50 USD alone sent most snapshots into a branch and bound of 41-84 s
    for a plan a few dozen USD cheaper in a 10,000 USD objective (issue 18); the
    branch and bound, when it runs, stops at the same relative gap. Both apply to the
    fallback's slack stages too (a shortfall may then be up to that fraction above
    its least), except the question whether a floor can be met at all, which is
    answered exactly. The plan reports the gap it was taken at (``PlanResult.gap_usd``).
    """

    horizon_ms: int = 7 * MS_PER_DAY
    trust_penalty_frac_per_year: float = 0.05
    accept_gap_usd: float = 50.0
    node_limit: int = 500
    accept_gap_frac: float = 0.01

    def __post_init__(self) -> None:
        if self.horizon_ms <= 0 or self.node_limit <= 0:
            raise ValueError("optimizer settings: horizon_ms and node_limit must be > 0")
        _non_negative("optimizer settings", "trust_penalty", self.trust_penalty_frac_per_year)
        _non_negative("optimizer settings", "accept_gap_usd", self.accept_gap_usd)
        _non_negative("optimizer settings", "accept_gap_frac", self.accept_gap_frac)

    def accepted_gap_usd(self, bound_usd: float) -> float:
        """The gap a rounded plan may leave to an LP bound of ``bound_usd``: the larger of
        the absolute and the relative allowance (bound -10,000 USD, 1 %: 100 USD)."""
        return max(self.accept_gap_usd, self.accept_gap_frac * abs(bound_usd))

    @property
    def horizon_years(self) -> float:
        return self.horizon_ms / MS_PER_YEAR


DEFAULT_SETTINGS: Final = OptimizerSettings()


@dataclass(frozen=True, slots=True)
class CollateralSnapshot:
    """Everything one optimizer run looks at, taken at ``ts_ms`` (UTC epoch ms).

    ``trust`` maps a venue to its settings (missing: :data:`DEFAULT_TRUST`);
    ``routes`` lists the whitelisted withdrawal routes. Every route and
    in-flight transfer must name accounts of the snapshot and priced assets.
    """

    ts_ms: int
    prices_usd: Mapping[Currency, float]
    accounts: tuple[AccountCollateral, ...]
    trust: Mapping[VenueId, TrustSettings] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    in_flight: tuple[InFlightTransfer, ...] = ()

    def __post_init__(self) -> None:
        for asset, price in self.prices_usd.items():
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"collateral snapshot: price of {asset} must be > 0, got {price}")
        object.__setattr__(
            self, "prices_usd", MappingProxyType(dict(sorted(self.prices_usd.items())))
        )
        object.__setattr__(self, "trust", MappingProxyType(dict(sorted(self.trust.items()))))
        keys = [a.account for a in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError(f"collateral snapshot: duplicate accounts in {sorted(keys)}")
        known = set(keys)
        assets = {x for a in self.accounts for x in a.free_coin}
        assets |= {r.asset for r in self.routes} | {t.asset for t in self.in_flight}
        unpriced = sorted(assets - set(self.prices_usd))
        if unpriced:
            raise ValueError(f"collateral snapshot: no USD price for {unpriced}")
        for route in self.routes:
            if route.source not in known or route.destination not in known:
                raise ValueError(
                    f"collateral snapshot: route {route.sort_key} names an unknown account"
                )
        for transfer in self.in_flight:
            if transfer.destination not in known:
                raise ValueError(
                    f"collateral snapshot: in-flight to unknown {transfer.destination}"
                )

    def trust_of(self, venue: VenueId) -> TrustSettings:
        return self.trust.get(venue, DEFAULT_TRUST)
