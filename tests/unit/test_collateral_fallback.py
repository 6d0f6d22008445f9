"""The fallback with floors unreachable: each stage's optimum kept, the cost found by rounding."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain.collateral import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    MarginBand,
    PlanStatus,
    Route,
    TrustSettings,
    optimize,
)
from bot.domain.collateral import optimizer as optimizer_module
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.lp import LpModel, Solved
from bot.domain.collateral.model import DEFAULT_SETTINGS
from bot.domain.ids import Currency, VenueId

PRICES = {Currency("BTC"): 60_000.0, Currency("ETH"): 3_000.0, Currency("USDC"): 1.0}
FEES = {
    Currency("BTC"): (0.0002, 0.001),
    Currency("ETH"): (0.002, 0.01),
    Currency("USDC"): (1.0, 10.0),
}
BAND = MarginBand(floor=1.5, target=2.5, ceiling=4.0)


def starved() -> CollateralSnapshot:
    """Four venues, two below floor, the donors' free coin far short of it (the bench's
    unreachable floors shrunk): its cost stage fell to branch and bound."""
    rows = [  # equity, MM, free BTC, ETH, USDC, trust score
        (10_313_693.0, 2_062_739.0, 0.3868, 12.18, 146_534.0, 0.25),
        (2_808_378.0, 2_553_071.0, 0.1370, 4.934, 33_147.0, 0.36),
        (5_284_112.0, 1_761_371.0, 1.0834, 5.070, 25_466.0, 0.52),
        (648_121.0, 589_201.0, 0.0421, 2.393, 3_257.0, 0.75),
    ]
    accounts, trust = [], {}
    for v, (equity, mm, btc, eth, usdc, score) in enumerate(rows):
        key = AccountKey(VenueId(f"v{v}"), "main")
        free = dict(zip(PRICES, (btc, eth, usdc), strict=True))
        idle = {Currency("USDC"): 0.05}
        accounts.append(
            AccountCollateral(key, equity, 1.3 * mm, mm, BAND, free, idle_cost_frac_per_year=idle)
        )
        trust[key.venue] = TrustSettings(score=score, max_share_frac=0.4, max_collateral_usd=40e6)
    routes = [
        Route(
            s.account,
            d.account,
            a,
            fee_coin=fee,
            min_coin=least,
            delay_ms=1_800_000,
            address=f"{d.account.venue}-{a}",
        )
        for s in accounts
        for d in accounts
        if s is not d
        for a, (fee, least) in FEES.items()
    ]
    return CollateralSnapshot(1_700_000_000_000, PRICES, tuple(accounts), trust, tuple(routes))


class TestUnreachableFloors:
    def test_the_plan_is_found_without_branch_and_bound(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No stage of the fallback, the cost stage included, runs a MILP: each rounds."""
        modes: list[str] = []
        solve = LpModel.solve

        def counted(self: LpModel, objective: np.ndarray, **kw: object) -> Solved | None:
            modes.append(str(kw["mode"]))
            return solve(self, objective, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(LpModel, "solve", counted)
        result = optimize(starved())
        assert result.status is PlanStatus.FLOOR_UNREACHABLE
        assert "fixed" in modes
        assert not {"mip", "sub-mip"} & set(modes)

    def test_every_stage_keeps_its_optimum(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The plan meets each stage's fixed optimum, and each stage is within its allowance."""
        stages: list[tuple[np.ndarray, float, float]] = []
        best = optimizer_module._best

        def kept(*args: object, **kw: object) -> tuple[Solved, float] | None:
            found = best(*args, **kw)  # type: ignore[arg-type]
            if found is not None:  # None: the first, unrelaxed, model is infeasible
                stages.append((np.array(args[1]), found[0].objective, found[1]))
            return found

        monkeypatch.setattr(optimizer_module, "_best", kept)
        snap = starved()
        lp = LpModel(build_frame(snap, DEFAULT_SETTINGS))
        plan, gap, relaxed = optimizer_module._solve(lp, DEFAULT_SETTINGS)
        assert relaxed and len(stages) >= 3
        for weights, value, stage_gap in stages:
            assert weights @ plan.x <= value + 1e-6 * max(1.0, abs(value))
            assert stage_gap <= DEFAULT_SETTINGS.accepted_gap_usd(value - stage_gap)
        assert gap == stages[-1][2] <= DEFAULT_SETTINGS.accept_gap_usd
