"""P&L attribution: what holds for any book, any move and any fills."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.pnl import EXPLAINED, Trade, ValuationPoint, attribute_interval

T0 = 1_796_112_000_000
PRICE = st.floats(100.0, 200_000.0)
COIN = st.floats(-1_000.0, 1_000.0)
USD = st.floats(-1e5, 1e5)


@st.composite
def points(draw: st.DrawFn, *, gamma: float | None = None) -> tuple[ValuationPoint, ...]:
    """Two valuations of one underlying, up to a day apart."""

    def one(ts_ms: int) -> ValuationPoint:
        return ValuationPoint(
            ts_ms=ts_ms,
            index_usd=draw(PRICE),
            book_delta_coin=draw(COIN),
            hedge_coin=draw(COIN),
            gamma_coin_per_pct=draw(COIN) if gamma is None else gamma,
            vega_usd_per_volpt=draw(USD),
            theta_usd_per_day=draw(USD),
            sigma=draw(st.floats(0.05, 3.0)),
            equity_coin=draw(st.floats(0.0, 1e4)),
        )

    return one(T0), one(T0 + draw(st.integers(1, 86_400_000)))


TRADES = st.lists(
    st.builds(Trade, st.just(T0), COIN, PRICE, PRICE, st.floats(-10.0, 10.0)), max_size=5
)


@given(points(), TRADES)
def test_the_components_sum_to_the_equity_change(
    pair: tuple[ValuationPoint, ValuationPoint], trades: list[Trade]
) -> None:
    """Whatever the Greeks, moves and fills, the components add up to the equity change."""
    pnl = attribute_interval(*pair, trades)
    total = math.fsum([*(getattr(pnl, n) for n in EXPLAINED), pnl.unexplained_usd])
    scale = max(1.0, *(abs(getattr(pnl, n)) for n in EXPLAINED), abs(pnl.equity_change_usd))
    assert math.isclose(total, pnl.equity_change_usd, rel_tol=0, abs_tol=1e-9 * scale)


@given(points(gamma=0.0))
def test_a_book_without_gamma_has_no_gamma_pnl(pair: tuple[ValuationPoint, ValuationPoint]) -> None:
    """A pure-delta book (gamma 0) earns no gamma P&L, however far the price moves."""
    assert attribute_interval(*pair).gamma_usd == 0.0


@given(points(), st.floats(-0.5, 0.5))
def test_gamma_pnl_is_even_in_the_move(
    pair: tuple[ValuationPoint, ValuationPoint], move_frac: float
) -> None:
    """½ΓdS² does not care about the direction: a move up or down by as much earns the same."""
    start, end = pair
    up = ValuationPoint(**{**_fields(end), "index_usd": start.index_usd * (1 + move_frac)})
    down = ValuationPoint(**{**_fields(end), "index_usd": start.index_usd * (1 - move_frac)})
    a, b = attribute_interval(start, up).gamma_usd, attribute_interval(start, down).gamma_usd
    assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@given(points())
def test_no_trades_means_no_slippage_and_no_fees(
    pair: tuple[ValuationPoint, ValuationPoint],
) -> None:
    """An interval without fills has zero slippage and zero fees."""
    pnl = attribute_interval(*pair)
    assert pnl.slippage_usd == 0.0 and pnl.fees_usd == 0.0


def _fields(p: ValuationPoint) -> dict[str, float]:
    return {n: getattr(p, n) for n in ValuationPoint.__slots__}
