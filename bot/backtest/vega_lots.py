"""How many lots of a hedging option bring a book's standardised vega back inside its limit.

The option-hedge loop's one-candidate, one-row answer in closed form, shared by the
Monte Carlo paths (:mod:`bot.backtest.engine`) and the recorded chain
(:mod:`bot.backtest.chain_option_hedge`): past the hard limit, the whole lots that bring
the vega to the soft limit on its own side (rounded up, so it ends inside), unless that
overshoots past the soft limit on the other side, when the one lot fewer is taken if it
ends nearer zero; a trade that would not leave the book nearer zero is not made, so the
book never ends further from its limit than it was.

Example: vega −120 USD per vol point, hard 100, soft 96, a call of 12 per coin, lots of
0.1: (−96 + 120) / 12 = 2 coin, 20 lots, ending at −96. With a call of 300 per coin and
lots of 1, one lot would end at +180 and none trades.
"""

from __future__ import annotations

import numpy as np

from bot.pricing.arrays import FloatArray


def vega_hedge_coin(
    vega: FloatArray,
    unit: FloatArray,
    *,
    hard: float,
    soft: float,
    lot_coin: float,
) -> FloatArray:
    """Signed coin of the option to trade per element (0: none), for a book at ``vega``
    and an option of ``unit`` standardised vega per coin (module docstring)."""
    vega = np.asarray(vega, dtype=np.float64)
    due = (np.abs(vega) > hard) & (np.asarray(unit) > 0)
    u = np.where(due, unit, 1.0)
    raw = np.where(due, (np.sign(vega) * soft - vega) / u, 0.0)
    up = np.sign(raw) * np.ceil(np.abs(raw) / lot_coin - 1e-9) * lot_coin
    down = up - np.sign(raw) * lot_coin
    after_up, after_down = np.abs(vega + up * u), np.abs(vega + down * u)
    use_down = (after_up > soft) & (after_down < after_up)
    dq, after = np.where(use_down, down, up), np.where(use_down, after_down, after_up)
    out: FloatArray = np.where(due & (after < np.abs(vega)), dq, 0.0)
    return out
