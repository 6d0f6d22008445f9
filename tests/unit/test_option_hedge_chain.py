"""From an option chain to the optimizer's candidates: whitelist, Greeks per coin, costs, caps."""

from __future__ import annotations

import math

import pytest

from bot.domain.ids import Symbol
from bot.domain.instruments import Instrument
from bot.domain.option_hedge import Candidates
from bot.domain.option_hedge_chain import WhitelistSettings, chain_candidates
from bot.domain.snapshot import Mark
from bot.pricing import black76
from tests.books import BTC, NOW_MS, _option

SETTINGS = WhitelistSettings(
    n_expiries=2, min_abs_delta=0.1, max_abs_delta=0.9, min_open_interest_coin=10.0,
    max_spread_frac=0.2, fee_frac=0.0003, max_position_coin=25.0,
)  # fmt: skip


def _chain() -> tuple[dict[Symbol, Instrument], dict[Symbol, Mark]]:
    """Calls at 60k of 10, 30 and 90 days; the 30-day one thinly held (OI 1)."""
    inst: dict[Symbol, Instrument] = {}
    marks: dict[Symbol, Mark] = {}
    for name, days, oi in (("C10", 10, 500.0), ("C30", 30, 1.0), ("C90", 90, 500.0)):
        i = _option(name, 60_000.0, days, True)
        inst[i.symbol] = i
        marks[i.symbol] = Mark(
            i.symbol, 0.06854, 60_000.0, NOW_MS, mark_iv=0.6, bid=0.068, ask=0.0695,
            open_interest=oi,
        )  # fmt: skip
    return inst, marks


def _candidates(held: dict[Symbol, float] | None = None) -> Candidates:
    inst, marks = _chain()
    return chain_candidates(
        inst, marks, underlying=BTC, now_ms=NOW_MS, held_coin=held or {}, settings=SETTINGS,
        edges_days=(7.0, 30.0, 90.0),
    )  # fmt: skip


def test_the_whitelist_keeps_the_liquid_options_of_the_nearest_expiries() -> None:
    """Of the two nearest expiries (10 and 30 days) the 30-day call lacks open interest."""
    c = _candidates()
    assert c.symbols == ("C10",) and c.bucket == ("7-30d",)


def test_greeks_are_per_coin_at_the_mark_iv() -> None:
    """Standardised vega = Black-76 vega per vol point x sqrt(30/10); USD gamma per 1 %."""
    g = black76(True, 60_000.0, 60_000.0, 10 / 365, 0.6)
    c = _candidates()
    assert c.vega_std_usd_per_volpt[0] == pytest.approx(float(g.vega) * 0.01 * math.sqrt(3.0))
    assert c.gamma_usd_per_pct[0] == pytest.approx(0.01 * 60_000.0**2 * float(g.gamma))


def test_cost_is_half_the_spread_plus_the_fee_in_usd() -> None:
    """The module docstring's example: 45 USD half-spread + 18 USD fee = 63 USD per coin."""
    assert _candidates().cost_usd[0] == pytest.approx(63.0)


def test_caps_count_the_position_already_held() -> None:
    """Long 10 with a cap of 25: 15 more may be bought, 35 sold."""
    c = _candidates({Symbol("C10"): 10.0})
    assert (c.max_buy_coin[0], c.max_sell_coin[0]) == (15.0, 35.0)
    assert (c.lot_coin[0], c.min_coin[0]) == (0.1, 0.1)
