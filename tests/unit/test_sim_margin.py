"""Deribit fee, margin, P&L and settlement formulas against the venue's worked examples."""

import pytest

from bot.sim.margin import (
    future_fee,
    future_margin_rates,
    inverse_pnl_coin,
    option_fee_coin,
    option_payoff_coin,
    short_option_margin,
)


def test_inverse_pnl_example() -> None:
    """Long 10,000 USD at 50,000, mark 55,000: +0.0181818 BTC; the short loses the same."""
    assert inverse_pnl_coin(10_000, 50_000, 55_000) == pytest.approx(0.0181818, abs=1e-7)
    assert inverse_pnl_coin(-10_000, 50_000, 55_000) == pytest.approx(-0.0181818, abs=1e-7)


def test_futures_margin_example() -> None:
    """Deribit: 25 BTC needs IM 2.125% (0.53125 BTC) and MM 1.125% (0.28125 BTC)."""
    im, mm = future_margin_rates(25.0, "BTC")
    assert (im, mm) == pytest.approx((0.02125, 0.01125))
    assert (25 * im, 25 * mm) == pytest.approx((0.53125, 0.28125))
    assert future_margin_rates(-350.0, "BTC")[0] == pytest.approx(0.0375)


def test_short_call_margin_example() -> None:
    """Short 70,000 call on 60,000 at mark 0.01: IM max(0.15-1/6, 0.1)+0.01 = 0.11, MM 0.085."""
    im, mm = short_option_margin(True, 70_000, 60_000, 0.01)
    assert (im, mm) == pytest.approx((0.11, 0.085))


def test_short_put_margin_uses_put_moneyness_and_floor() -> None:
    """ATM short put at mark 0.05: IM 0.15+0.05 = 0.2; MM max(0.075, 0.075*0.05)+0.05 = 0.125."""
    im, mm = short_option_margin(False, 60_000, 60_000, 0.05)
    assert (im, mm) == pytest.approx((0.20, 0.125))
    # Deep OTM put (strike 30,000 on 60,000): OTM/F = 0.5, so the 0.1 floor applies.
    assert short_option_margin(False, 30_000, 60_000, 0.001)[0] == pytest.approx(0.101)


def test_option_fee_cap_example() -> None:
    """Deribit: an option at 0.0001 BTC pays 0.0000125 BTC (12.5% cap), not 0.0003 BTC."""
    assert option_fee_coin(1.0, 0.0001, 0.0003, 0.125) == pytest.approx(0.0000125)
    assert option_fee_coin(2.0, 0.05, 0.0003, 0.125) == pytest.approx(0.0006)


def test_futures_fee_example() -> None:
    """Deribit: 50,000 USD taken at 100,000 pays 0.05% of 0.5 BTC = 0.00025 BTC."""
    assert future_fee(50_000, 100_000, 0.0005, inverse=True) == pytest.approx(0.00025)
    assert future_fee(0.5, 100_000, 0.0005, inverse=False) == pytest.approx(25.0)


def test_option_settlement_examples() -> None:
    """Deribit: 10,000 call at 12,500 pays 0.2 BTC; 10,000 put at 5,000 pays 1 BTC; OTM pays 0."""
    assert option_payoff_coin(True, 10_000, 12_500) == pytest.approx(0.2)
    assert option_payoff_coin(False, 10_000, 5_000) == pytest.approx(1.0)
    assert option_payoff_coin(True, 10_000, 9_999) == 0.0
