"""Configuration of one simulated exchange: grid, fees, book, accounts, wallet.

Frozen values only; :meth:`ExchangeSpec.default` builds the sensible grid
the demo, the tests and ``deltabot sim-venue`` use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from bot.domain.ids import venue_id
from bot.domain.timeunits import MS_PER_YEAR
from bot.domain.units import MAX_AMOUNT
from bot.sim.contracts import PERPETUAL_EXPIRY_MS
from bot.sim.dialect import ALL_CURRENCIES, CURRENCIES, Dialect
from bot.sim.grid import default_expiries, monthly_expiries, strike_ladder
from bot.sim.market import DEFAULT_SPOT_USD

MAX_PERP_BASIS_FRAC: Final = 0.05
"""Largest perpetual basis either way, a fraction of the index (5%: far past any venue's)."""
PERP_BASIS_FRAC: Final = MappingProxyType({Dialect.DERIBIT: 0.0, Dialect.BINANCE_USDM: -0.0003})
"""Each dialect's default perpetual premium over the market's, a fraction of the index. The
deepest perpetual trades closest to the index: over the market's 0.08% premium, Deribit's
funding is 0.03% per 8 h and Binance's (premium 0.05%) 0.05% + max(0.01% − 0.05%, −0.05%)
= 0.01%."""

LAST_START_MS: Final = PERPETUAL_EXPIRY_MS - MS_PER_YEAR
"""The latest simulated start, 2999-01-01T08:00Z in epoch ms: everything listed expires within
a year of the start and before the perpetuals' nominal expiry (3000-01-01, as Deribit says).
The earliest start is 0 (1970-01-01)."""


def check_start_ms(start_ms: int) -> None:
    """ValueError unless the simulated calendar can start at ``start_ms``."""
    if not 0 <= start_ms <= LAST_START_MS:
        raise ValueError(
            f"start {start_ms} ms is outside the simulated calendar: give epoch milliseconds "
            f"from 0 (1970-01-01) to {LAST_START_MS} (2999-01-01T08:00Z)"
        )


@dataclass(frozen=True, slots=True)
class PositionSpec:
    """An initial position: ``size`` in the contract's amount unit (USD for inverse futures).

    ``average_price`` None means "opened at the first mark".
    """

    instrument_name: str
    size: float
    average_price: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.size) and abs(self.size) <= MAX_AMOUNT):
            raise ValueError(
                f"position {self.instrument_name}: size must be at most {MAX_AMOUNT:g} either "
                f"way, got {self.size!r}"
            )


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One (sub-)account: id, API key pair, coin balances and initial positions."""

    id: int
    username: str
    client_id: str
    client_secret: str
    balances: Mapping[str, float] = field(default_factory=dict)
    positions: tuple[PositionSpec, ...] = ()

    def __post_init__(self) -> None:
        for cur, amount in self.balances.items():
            if cur not in ALL_CURRENCIES:
                raise ValueError(f"account {self.id}: unknown currency {cur!r} in balances")
            if not (math.isfinite(amount) and amount >= 0):
                raise ValueError(f"account {self.id}: balance {cur} must be >= 0, got {amount!r}")


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Deribit fees as fractions (support.deribit.com "Fees", BTC/ETH rows).

    Options: 0.03% of the underlying per contract, i.e. 0.0003 coin, capped at
    12.5% of the option price, maker and taker alike. Futures and perpetuals
    (inverse and USDC): maker 0.00%, taker 0.05% of the notional.
    """

    option_rate: float = 0.0003
    option_cap: float = 0.125
    future_maker: float = 0.0
    future_taker: float = 0.0005

    @classmethod
    def binance_usdm(cls) -> FeeSchedule:
        """Binance USDⓈ-M regular user (VIP 0, no BNB discount): maker 0.02%, taker 0.05%
        of the notional, in USDT (binance.com "USDⓈ-M Futures Trading Fee Rate")."""
        return cls(future_maker=0.0002, future_taker=0.0005)


@dataclass(frozen=True, slots=True)
class OrderBookSpec:
    """Shape of the synthetic order book quoted around each mark.

    Futures: half-spread and level spacing as fractions of the mark, depth per
    level in coin. Options: half-spread as a fraction of the mark with a floor
    in ticks, spacing in ticks, depth per level in multiples of the minimum size.
    """

    levels: int = 5
    future_half_spread: float = 0.0002
    future_level_step: float = 0.0002
    future_depth_coin: float = 2.0
    option_half_spread: float = 0.02
    option_min_half_spread_ticks: int = 1
    option_level_step_ticks: int = 2
    option_depth_min_sizes: int = 50


@dataclass(frozen=True, slots=True)
class WalletSpec:
    """Withdrawal rules. Fees and minima are per currency in that currency.

    Withdrawals move unconfirmed → confirmed after ``confirm_delay_ms`` and
    complete when the deposit lands ``network_delay_ms`` after confirmation.
    ``whitelist`` None allows any registered address. Deribit's withdrawal fee
    varies with blockchain conditions (support.deribit.com "Withdrawals"); the
    defaults here are representative fixed figures.
    """

    withdrawal_fee: Mapping[str, float] = field(
        default_factory=lambda: {"BTC": 0.0001, "ETH": 0.0016, "USDC": 1.0, "USDT": 1.0}
    )
    withdrawal_min: Mapping[str, float] = field(
        default_factory=lambda: {"BTC": 0.0002, "ETH": 0.002, "USDC": 2.0, "USDT": 10.0}
    )
    confirm_delay_ms: int = 60_000
    network_delay_ms: int = 30 * 60_000
    whitelist: tuple[str, ...] | None = None

    @classmethod
    def binance(cls) -> WalletSpec:
        """Binance withdrawals: representative fixed fees and minima (the venue's vary by
        network), a shorter review than Deribit's and the same network delay."""
        return cls(
            withdrawal_fee={"USDT": 1.0, "USDC": 1.0, "BTC": 0.00005, "ETH": 0.0008},
            withdrawal_min={"USDT": 10.0, "USDC": 10.0, "BTC": 0.0001, "ETH": 0.0016},
            confirm_delay_ms=30_000,
        )


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """Everything that defines one simulated exchange besides its market and clock."""

    name: str
    start_ms: int
    underlyings: tuple[str, ...]
    option_expiries_ms: tuple[int, ...]
    future_expiries_ms: tuple[int, ...]
    strikes_usd: Mapping[str, tuple[float, ...]]
    accounts: tuple[AccountSpec, ...]
    linear_perps: bool = True
    fees: FeeSchedule = FeeSchedule()
    book: OrderBookSpec = OrderBookSpec()
    wallet: WalletSpec = WalletSpec()
    liquidation: bool = True
    dialect: Dialect = Dialect.DERIBIT
    perp_basis_frac: float = 0.0
    """This venue's perpetual premium over the market's, a fraction of the index (see
    :data:`PERP_BASIS_FRAC` for each dialect's default)."""

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies this venue's accounts hold (its dialect's)."""
        return CURRENCIES[self.dialect]

    def __post_init__(self) -> None:
        venue_id(self.name)
        check_start_ms(self.start_ms)
        basis = self.perp_basis_frac
        if not (math.isfinite(basis) and abs(basis) <= MAX_PERP_BASIS_FRAC):
            raise ValueError(
                f"ExchangeSpec {self.name}: perp_basis_frac must be within "
                f"±{MAX_PERP_BASIS_FRAC}, got {basis!r}"
            )
        if not self.accounts:
            raise ValueError("ExchangeSpec needs at least the main account")
        ids = [a.id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"ExchangeSpec: duplicate account ids {ids}")
        keys = [a.client_id for a in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("ExchangeSpec: duplicate client ids")
        missing = [u for u in self.underlyings if u not in self.strikes_usd]
        if missing and self.option_expiries_ms:
            raise ValueError(f"ExchangeSpec: no strikes for {missing}")
        for a in self.accounts:
            foreign = sorted(set(a.balances) - set(self.currencies))
            if foreign:
                raise ValueError(
                    f"account {a.id}: a {self.dialect.value} venue holds "
                    f"{', '.join(self.currencies)}, not {', '.join(foreign)}"
                )

    @property
    def main_account_id(self) -> int:
        """The first account is the main account; the others are its sub-accounts."""
        return self.accounts[0].id

    @classmethod
    def default(
        cls,
        name: str,
        start_ms: int,
        underlyings: Iterable[str] = ("BTC", "ETH"),
        accounts: Iterable[AccountSpec] | None = None,
        spot_usd: Mapping[str, float] | None = None,
        *,
        dialect: Dialect = Dialect.DERIBIT,
    ) -> ExchangeSpec:
        """Two weekly, two monthly and two quarterly expiries; strikes ±50% of spot.

        Futures list on the monthly and quarterly dates. The default account is
        main account 1, client id ``sim-main`` / secret ``sim-main-secret``,
        holding 10 BTC, 100 ETH and 500,000 USDC. A Binance USDⓈ-M venue lists
        the USDT perpetuals alone, and its default account holds 500,000 USDT.
        """
        check_start_ms(start_ms)  # before the calendar is built from it
        unds = tuple(underlyings)
        spots = dict(spot_usd or DEFAULT_SPOT_USD)
        missing = [u for u in unds if u not in spots]
        if missing:
            raise ValueError(f"ExchangeSpec.default: no spot for {missing}")
        if dialect is Dialect.BINANCE_USDM:
            accs = tuple(accounts) if accounts is not None else (default_main_account(dialect),)
            return binance_usdm_spec(name, start_ms, unds, accs)
        quarterly = monthly_expiries(start_ms, 2, months=(3, 6, 9, 12))
        futures = sorted({*monthly_expiries(start_ms, 2), *quarterly})
        accs = tuple(accounts) if accounts is not None else (default_main_account(),)
        return cls(
            name=name,
            start_ms=start_ms,
            underlyings=unds,
            option_expiries_ms=tuple(default_expiries(start_ms)),
            future_expiries_ms=tuple(futures),
            strikes_usd={u: tuple(strike_ladder(spots[u])) for u in unds},
            accounts=accs,
        )


def binance_usdm_spec(
    name: str,
    start_ms: int,
    underlyings: tuple[str, ...],
    accounts: tuple[AccountSpec, ...],
    perp_basis_frac: float | None = None,
) -> ExchangeSpec:
    """A Binance USDⓈ-M venue: one USDT perpetual per underlying, Binance's fees and wallet;
    ``perp_basis_frac`` None takes the dialect's default."""
    basis = PERP_BASIS_FRAC[Dialect.BINANCE_USDM] if perp_basis_frac is None else perp_basis_frac
    return ExchangeSpec(
        name=name,
        start_ms=start_ms,
        underlyings=underlyings,
        option_expiries_ms=(),
        future_expiries_ms=(),
        strikes_usd={},
        accounts=accounts,
        fees=FeeSchedule.binance_usdm(),
        wallet=WalletSpec.binance(),
        dialect=Dialect.BINANCE_USDM,
        perp_basis_frac=basis,
    )


def default_main_account(dialect: Dialect = Dialect.DERIBIT) -> AccountSpec:
    """Main account 1 with a known key pair (for the demo and tests only)."""
    balances = (
        {"USDT": 500_000.0}
        if dialect is Dialect.BINANCE_USDM
        else {"BTC": 10.0, "ETH": 100.0, "USDC": 500_000.0}
    )
    return AccountSpec(
        id=1,
        username="sim_main",
        client_id="sim-main",
        client_secret="sim-main-secret",
        balances=balances,
    )
