"""``deltabot collateral what-if``: the optimizer across price moves and venue caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app.collateral_whatif import WhatIf, WhatIfReport, whatif_report
from bot.cli import main
from bot.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
FEW_MOVES = {"DELTABOT_STRESS__PRICE_POINTS": "5"}
"""Five price moves (-50 % to +50 %) instead of the example's grid: quick solves."""


def example(environ: dict[str, str] | None = None) -> Config:
    return load_config(EXAMPLE, environ or FEW_MOVES)


@pytest.fixture(scope="module")
def report() -> WhatIfReport:
    return whatif_report(example(), cap_frac=0.5)


class TestScenarios:
    def test_each_move_runs_uncapped_then_each_venue_capped(self, report: WhatIfReport) -> None:
        """Scenarios are the moves ascending, each uncapped then with each venue capped."""
        config = example()
        venues = sorted(v.name for v in config.collateral.venues)
        expected = [(m, c) for m in config.stress.price_moves() for c in [None, *venues]]
        assert [(o.scenario.move_frac, o.scenario.capped_venue) for o in report.outcomes] == (
            expected
        )

    def test_a_rally_moves_collateral_to_the_short_hedge_venue(self, report: WhatIfReport) -> None:
        """Coins up 50 %: the venue short the perpetuals falls below its floor and the plan
        sends it collateral, at a cost, or says what it cannot restore."""
        top = max(o.scenario.move_frac for o in report.outcomes)
        rally = next(o for o in report.outcomes if o.scenario == WhatIf(top, None))
        assert {t.destination for t in rally.transfers} == {"binance-a/main"}
        assert rally.cost_usd > 0

    def test_a_cap_on_the_receiving_venue_leaves_a_shortfall(self, report: WhatIfReport) -> None:
        """Capping the venue that needs collateral in a rally never shrinks its shortfall and,
        in some rally, leaves short a floor the uncapped plan restores (the venue reducing)."""
        by = {(o.scenario.move_frac, o.scenario.capped_venue): o for o in report.outcomes}
        rallies = sorted({m for m, _ in by if m > 0})
        pairs = [(by[m, "binance-a"], by[m, None]) for m in rallies]
        assert all(c.shortfall_usd >= u.shortfall_usd for c, u in pairs)
        assert any(c.shortfall_usd > 0 and u.shortfall_usd == 0 for c, u in pairs)
        assert all(c.reducing_venues == ("binance-a",) for c, _ in pairs if c.shortfall_usd)


class TestInputs:
    def test_a_cap_fraction_outside_zero_to_one_is_refused(self) -> None:
        """--cap-frac above 1 is a ValueError naming the option."""
        with pytest.raises(ValueError, match="--cap-frac must be in"):
            whatif_report(example(), cap_frac=1.5)

    def test_a_book_without_collateral_venues_is_refused(self) -> None:
        """A [sim] book none of whose venues is in [[collateral.venues]]: one clear error."""
        config = example()
        bare = config.model_copy(
            update={"collateral": config.collateral.model_copy(update={"venues": ()})}
        )
        with pytest.raises(ValueError, match=r"\[\[collateral.venues\]\]"):
            whatif_report(bare, cap_frac=0.5)


class TestCommand:
    def test_json_lists_every_scenario(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`collateral what-if --json` serially: exit 0, one object per scenario."""
        argv = ["collateral", "what-if", "--config", str(EXAMPLE), "--json"]
        assert main([*argv, "--scheduler", "serial"], FEW_MOVES) == 0
        report = json.loads(capsys.readouterr().out)
        config = example()
        venues = len(config.collateral.venues)
        assert len(report["scenarios"]) == len(config.stress.price_moves()) * (1 + venues)
        assert set(report["scenarios"][0]) >= {"scenario", "status", "cost_usd", "transfers"}

    def test_a_bad_cap_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A --cap-frac of 2: exit 2 and one line on stderr."""
        argv = ["collateral", "what-if", "--config", str(EXAMPLE), "--cap-frac", "2"]
        assert main([*argv, "--scheduler", "serial"], FEW_MOVES) == 2
        assert capsys.readouterr().err.count("\n") == 1
