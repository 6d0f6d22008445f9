"""Registry: built-ins by name, plugins through entry points, clear errors for names and params."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import ClassVar

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field

from bot.pricing.arrays import FloatArray
from strategies import registry
from strategies.band import Band, BandParams
from strategies.base import HedgeState
from strategies.interval import Interval
from strategies.registry import (
    ENTRY_POINT_GROUP,
    StrategyError,
    available_strategies,
    load_strategy,
)
from strategies.whalley_wilmott import WhalleyWilmott
from strategies.zakamouline import Zakamouline

HERE = __name__


class _Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    max_coin: float = Field(gt=0, description="Largest hedge, coin, > 0. Required.")


class FakeParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    limits: _Limits = Field(description="Hedge limits. Required.")


@dataclass(frozen=True, slots=True)
class FakeStrategy:
    """A third-party strategy: hedge fully to the target, capped at limits.max_coin."""

    name: ClassVar[str] = "fake_cap"
    Params: ClassVar[type[BaseModel]] = FakeParams
    params: FakeParams

    def target_hedge(self, state: HedgeState) -> FloatArray:
        cap = self.params.limits.max_coin
        return np.clip(state.target_delta_coin - state.net_delta_coin, -cap, cap)


def not_a_class() -> None:
    """An entry point that resolves to a function, not a strategy class."""


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    """Installed entry points, as the registry will discover them (empty until a test adds)."""
    installed: list[EntryPoint] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: tuple(installed))
    return installed


def test_builtins_are_listed_under_their_own_names(plugins: list[EntryPoint]) -> None:
    """The four built-ins are available, each under the name it declares."""
    found = available_strategies()
    assert found == {
        "interval": Interval,
        "band": Band,
        "whalley_wilmott": WhalleyWilmott,
        "zakamouline": Zakamouline,
    }
    assert all(cls.name == name for name, cls in found.items())


def test_load_strategy_validates_params_into_the_model(plugins: list[EntryPoint]) -> None:
    """A built-in is built from a plain mapping, coerced and defaulted by its Params model."""
    strategy = load_strategy("band", {"width_up": 1, "width_down": 2, "rehedge_to": "edge"})
    assert isinstance(strategy, Band)
    assert strategy.params == BandParams(width_up=1.0, width_down=2.0, rehedge_to="edge")


def test_unknown_name_lists_every_available_strategy(plugins: list[EntryPoint]) -> None:
    """A typo names the bad name and every available one, plugins included."""
    plugins.append(_ep("fake_cap", f"{HERE}:FakeStrategy"))
    with pytest.raises(StrategyError) as err:
        load_strategy("whaley_wilmott", {})
    assert str(err.value) == (
        "unknown strategy 'whaley_wilmott'; available: band, fake_cap, interval, "
        "whalley_wilmott, zakamouline"
    )


def test_bad_params_name_each_field_without_pydantic_noise(plugins: list[EntryPoint]) -> None:
    """Every problem appears as 'path: message' and the pydantic error is not chained."""
    with pytest.raises(StrategyError) as err:
        load_strategy("band", {"width_up": -1, "colour": "red"})
    message = str(err.value)
    assert message.startswith("invalid params for strategy 'band': ")
    assert "width_up: Input should be greater than or equal to 0" in message
    assert "width_down: Field required" in message
    assert "colour: Extra inputs are not permitted" in message
    assert "pydantic" not in message
    assert err.value.__cause__ is None
    assert err.value.__suppress_context__


def test_entry_point_strategy_is_discovered_and_loaded(plugins: list[EntryPoint]) -> None:
    """A plugin in the deltabot.strategies group is listed and built like a built-in."""
    plugins.append(_ep("fake_cap", f"{HERE}:FakeStrategy"))
    assert available_strategies()["fake_cap"] is FakeStrategy
    strategy = load_strategy("fake_cap", {"limits": {"max_coin": 0.5}})
    assert isinstance(strategy, FakeStrategy)
    state = HedgeState.from_arrays(
        spot_usd=60_000.0,
        net_delta_coin=[-2.0, 0.25],
        gamma_coin_per_usd=0.0,
        hedge_coin=0.0,
        sigma=0.6,
        tau_years=0.1,
        cost_frac=5e-4,
        time_since_hedge_s=0.0,
    )
    np.testing.assert_array_equal(strategy.target_hedge(state), [0.5, -0.25])


def test_nested_param_errors_carry_the_full_path(plugins: list[EntryPoint]) -> None:
    """A plugin's nested field is reported as 'limits.max_coin: ...'."""
    plugins.append(_ep("fake_cap", f"{HERE}:FakeStrategy"))
    with pytest.raises(StrategyError, match=r"limits\.max_coin: Input should be greater than 0"):
        load_strategy("fake_cap", {"limits": {"max_coin": 0}})


def test_broken_entry_point_error_names_it(plugins: list[EntryPoint]) -> None:
    """A plugin that fails to import is named, with its target and the import error."""
    plugins.append(_ep("broken", "deltabot_no_such_plugin.strategy:Broken"))
    expected = (
        r"third-party strategy 'broken' \(entry point 'deltabot_no_such_plugin\.strategy:Broken'\) "
        r"failed to load: ModuleNotFoundError"
    )
    with pytest.raises(StrategyError, match=expected):
        load_strategy("broken", {})
    with pytest.raises(StrategyError, match=expected):
        available_strategies()


def test_broken_plugin_does_not_stop_a_builtin(plugins: list[EntryPoint]) -> None:
    """Asking for a built-in never imports plugins."""
    plugins.append(_ep("broken", "deltabot_no_such_plugin.strategy:Broken"))
    assert isinstance(load_strategy("interval", {"interval_s": 60}), Interval)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("not_a_class", "got function, not a class"),
        ("FakeParams", "its name is None, not 'odd'"),
        ("FakeStrategy", "its name is 'fake_cap', not 'odd'"),
    ],
)
def test_entry_point_that_is_not_a_strategy_is_rejected(
    plugins: list[EntryPoint], target: str, problem: str
) -> None:
    """An entry point must resolve to a strategy class declaring the same name."""
    plugins.append(_ep("odd", f"{HERE}:{target}"))
    with pytest.raises(StrategyError, match=f"'odd' .* is not a strategy class: {problem}"):
        load_strategy("odd", {})


def test_plugin_cannot_take_a_builtin_name(plugins: list[EntryPoint]) -> None:
    """An entry point named like a built-in is reported instead of shadowing it."""
    plugins.append(_ep("band", f"{HERE}:FakeStrategy"))
    with pytest.raises(StrategyError, match=r"'band' is taken twice: .* the built-in strategy"):
        available_strategies()


def test_two_plugins_cannot_share_a_name(plugins: list[EntryPoint]) -> None:
    """Two distributions registering the same name is an error naming both targets."""
    plugins.extend([_ep("fake_cap", f"{HERE}:FakeStrategy"), _ep("fake_cap", "other.mod:Cap")])
    with pytest.raises(StrategyError, match="'fake_cap' is taken twice: entry points"):
        load_strategy("fake_cap", {"limits": {"max_coin": 1.0}})
    with pytest.raises(StrategyError, match="'fake_cap' is taken twice"):
        available_strategies()
