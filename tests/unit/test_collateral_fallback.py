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


class _Solver:
    """An LP model's stand-in: the relaxation's bound is 0, branch and bound over the opened
    routes finds ``sub_mip`` (None: nothing), over every route 400 USD."""

    def __init__(self, sub_mip: float | None) -> None:
        self.sub_mip, self.modes = sub_mip, list[str]()

    def used(self, x: np.ndarray) -> np.ndarray:
        return (x > 0).astype(np.float64)

    def solve(self, objective: np.ndarray, **kw: object) -> Solved | None:
        mode = str(kw["mode"])
        self.modes.append(mode)
        value = {"lp": 0.0, "sub-mip": self.sub_mip, "mip": 400.0}[mode]
        return None if value is None else Solved(np.ones(2), value)


class TestWholeModelSearch:
    """At 50 venues the search over every route took 10-130 s on 7 of 40 feasible snapshots
    to gain 0-15 USD: it runs only where no plan has been found."""

    @pytest.fixture(autouse=True)
    def _far_rounding(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every rounding is 1,000 USD above the bound: outside any allowance."""
        monkeypatch.setattr(
            optimizer_module, "_roundings", lambda *a, **kw: [Solved(np.ones(2), 1_000.0)]
        )

    def test_a_plan_over_the_opened_routes_stands_with_its_gap(self) -> None:
        """The sub-MIP's 500 USD plan is taken, its 500 USD gap reported; no whole-model MIP."""
        lp = _Solver(sub_mip=500.0)
        found = optimizer_module._best(lp, np.ones(2), False, DEFAULT_SETTINGS)  # type: ignore[arg-type]
        assert found is not None and found[0].objective == 500.0 and found[1] == 500.0
        assert "mip" not in lp.modes and "sub-mip" in lp.modes

    def test_the_whole_model_is_searched_when_no_plan_is_found(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No rounding feasible and nothing over the opened routes: every route is searched."""
        monkeypatch.setattr(optimizer_module, "_roundings", lambda *a, **kw: [])
        lp = _Solver(sub_mip=None)
        found = optimizer_module._best(lp, np.ones(2), False, DEFAULT_SETTINGS)  # type: ignore[arg-type]
        assert found is not None and found[0].objective == 400.0
        assert lp.modes[-2:] == ["sub-mip", "mip"]

    def test_a_zero_slack_is_still_answered_exactly(self) -> None:
        """A slack stage whose bound is zero searches every route until an exact zero or
        the node limit: whether a floor can be met is never left to the opened routes."""
        lp = _Solver(sub_mip=500.0)
        optimizer_module._best(lp, np.ones(2), True, DEFAULT_SETTINGS, zero_tol=1e-6)  # type: ignore[arg-type]
        assert lp.modes[-2:] == ["sub-mip", "mip"]
