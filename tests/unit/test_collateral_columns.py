"""Column generation's worked example: the optimizer's own, relaxed."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain.collateral.columns import relaxation
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.lp import LpModel
from bot.domain.collateral.model import DEFAULT_SETTINGS
from tests.unit.test_collateral_optimizer import worked_example


def test_worked_example_of_the_docstring() -> None:
    """The route comes in; the LP sends 50,005 USD at y = 0.5 for a 5.0050005 USD bound."""
    lp = LpModel(build_frame(worked_example(), DEFAULT_SETTINGS))
    assert lp.link_usd[0].tolist() == [100.0]
    assert lp.link_usd[1].tolist() == pytest.approx([100_010.0])
    found = relaxation(lp, lp.cost, lp.upper, np.zeros(0, dtype=np.int64))
    assert found is not None
    x, bound = found.x, found.bound
    assert x[0] == pytest.approx(50_005.0)
    assert x[lp.ycols[0]] == pytest.approx(0.5)
    assert bound == pytest.approx(10 * 0.5 + 1e-7 * 50_005, rel=1e-9)
