"""The option-hedge optimizer: cheapest lots within caps back inside the limits, or why not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bot.domain.greek_limits import BucketView, GreekLimit, LimitCheck, LimitLevel
from bot.domain.option_hedge import Chain, Figure, Row, propose, rows_of, whitelist
from tests.option_hedge_books import BTC, F, candidates, vega_std_per_coin

ONE_CALL_24D = dict(days=[24.0], strikes=[F], buckets=["7-30d"])


def _vega_row(before: float, bound: float = 400.0, *, required: bool = True) -> Row:
    return Row(BTC, "7-30d", Figure.VEGA, before, bound, required)


class TestPropose:
    def test_worked_example_of_the_module_docstring(self) -> None:
        """Short 10 calls of 24 d (std vega -684.2): buy 4.2 coin for 126 USD, left at -396.8."""
        before = -10 * vega_std_per_coin(24.0)
        assert before == pytest.approx(-684.2, abs=0.05)
        p = propose(candidates(**ONE_CALL_24D), [_vega_row(before)])
        assert p.feasible and p.amount_coin.tolist() == pytest.approx([4.2])
        assert p.cost_usd == pytest.approx(126.0) and p.after[0] == pytest.approx(-396.8, abs=0.05)

    def test_it_picks_the_cheaper_of_two_options_that_both_mend(self) -> None:
        """Two equal calls, one costing twice the other: only the cheap one is traded."""
        c = candidates(days=[24.0, 24.0], strikes=[F, F], buckets=["7-30d"] * 2)
        c = dataclasses.replace(c, cost_usd=np.array([60.0, 30.0]))
        p = propose(c, [_vega_row(-684.2)])
        assert p.amount_coin[0] == 0.0 and p.amount_coin[1] > 0

    def test_amounts_are_whole_lots_of_at_least_the_minimum(self) -> None:
        """With 0.5 coin lots and a 1.0 coin minimum, the trade is 0 or >= 1.0 in 0.5 steps."""
        c = candidates(**ONE_CALL_24D, lot_coin=0.5, min_coin=1.0)
        p = propose(c, [_vega_row(-450.0)])  # needs only 0.73 coin: the minimum rules
        assert p.amount_coin.tolist() == [1.0]

    def test_a_position_cap_makes_it_infeasible_and_the_reason_says_by_how_much(self) -> None:
        """At most 1 coin may be bought: the required move cannot be reached; both figures shown."""
        p = propose(candidates(**ONE_CALL_24D, cap_coin=1.0), [_vega_row(-684.2)])
        assert not p.feasible and not p.amount_coin.any()
        assert "moves it by at most +68.4, +284.2 is needed to reach 400.0" in p.why[0]

    def test_a_bucket_with_no_option_is_explained(self) -> None:
        """A breach in 30-90d with a whitelist of 7-30d options only: nothing can move it."""
        row = Row(BTC, "30-90d", Figure.VEGA, -900.0, 400.0, True)
        p = propose(candidates(**ONE_CALL_24D), [row])
        assert p.why == (
            "BTC 30-90d standardised vega USD/volpt -900.0: no whitelisted option moves it",
        )

    def test_conflicting_rows_are_explained_as_such(self) -> None:
        """Gamma must go down while vega must go up with only calls: each alone can, not both."""
        c = candidates(**ONE_CALL_24D)
        gamma_per_coin = float(c.gamma_usd_per_pct[0])
        rows = [
            _vega_row(-684.2),
            Row(BTC, "7-30d", Figure.GAMMA, 0.0, 0.5 * gamma_per_coin, False),
        ]
        p = propose(c, rows)
        assert not p.feasible and p.why[0].startswith("each breach alone can be mended")

    def test_a_premium_cap_binds(self) -> None:
        """A premium cap below the outlay of the only fix makes it infeasible."""
        p = propose(candidates(**ONE_CALL_24D), [_vega_row(-684.2)], max_premium_usd=100.0)
        assert not p.feasible and "max_premium_usd 100" in p.why[0]

    def test_the_all_bucket_counts_every_option_of_the_underlying(self) -> None:
        """An ``all`` row is moved by options of any bucket."""
        c = candidates(days=[5.0, 60.0], strikes=[F, F], buckets=["0-7d", "30-90d"])
        row = Row(BTC, "all", Figure.VEGA, -1_000.0, 400.0, True)
        p = propose(c, [row])
        assert p.feasible and p.after[0] == pytest.approx(-400.0, abs=10.0)

    def test_legs_name_the_symbols_traded(self) -> None:
        """legs() lists (symbol, signed coin) of each non-zero trade."""
        p = propose(candidates(**ONE_CALL_24D), [_vega_row(-684.2)])
        assert p.legs(candidates(**ONE_CALL_24D)) == [("BTC-24D-60000-C", pytest.approx(4.2))]


class TestRows:
    def _check(self, vega: float, **limits: float) -> LimitCheck:
        view = BucketView(BTC, "7-30d", vega * 0.9, vega, 0.0, 0.0)
        return LimitCheck(GreekLimit(BTC, "7-30d", **limits), view, LimitLevel.HARD, "")

    def test_past_hard_is_required_to_reach_the_soft_limit(self) -> None:
        """A hard breach must come inside soft (the aim); the row says so."""
        (row,) = rows_of(
            [self._check(-700.0, soft_vega_usd_per_volpt=400.0, hard_vega_usd_per_volpt=500.0)]
        )
        assert (row.bound, row.required) == (400.0, True)

    def test_between_soft_and_hard_may_not_grow(self) -> None:
        """Past soft only: not required, bounded by its own size (never further out)."""
        (row,) = rows_of(
            [self._check(-450.0, soft_vega_usd_per_volpt=400.0, hard_vega_usd_per_volpt=500.0)]
        )
        assert (row.bound, row.required) == (450.0, False)


def test_whitelist_keeps_liquid_options_of_the_nearest_expiries() -> None:
    """Nearest 2 live expiries, |delta| in range, enough open interest, a tight two-sided quote."""
    day = 86_400_000
    chain = Chain(
        expiry_ms=np.array([-day, 1, 1, 2, 2, 3]) * day,
        abs_delta=np.array([0.5, 0.5, 0.02, 0.4, 0.5, 0.5]),
        open_interest_coin=np.array([100.0, 100.0, 100.0, 1.0, 100.0, 100.0]),
        bid_usd=np.array([1.0, 95.0, 95.0, 95.0, np.nan, 95.0]),
        ask_usd=np.array([1.1, 105.0, 105.0, 105.0, 105.0, 105.0]),
    )
    kept = whitelist(chain, now_ms=0, n_expiries=2, min_abs_delta=0.1, max_abs_delta=0.6,
                     min_open_interest_coin=10.0, max_spread_frac=0.15)  # fmt: skip
    assert kept.tolist() == [1]
