"""[collateral] config: defaults, validation at the key at fault, and the domain views."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from bot.config.base import nested_model
from bot.config.collateral import CollateralConfig, CollateralMode
from bot.domain.collateral import MarginBand
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.timeunits import MS_PER_DAY

EXAMPLE_TOML = """
[collateral]
mode = "plan"
horizon_days = 7
trust_penalty_frac_per_year = 0.05
stale_attestation_score_factor = 0.5
accept_gap_usd = 50
idle_cost_frac_per_year = { BTC = 0.0, ETH = 0.0, USDC = 0.05, USDT = 0.05 }
max_transfer_usd = 250000
max_daily_transfer_usd = 1000000

[collateral.band]
floor = 1.5
target = 2.5
ceiling = 4.0

[[collateral.venues]]
name = "deribit-a"
sub_accounts = ["main", "hedge"]
trust_score = 0.9
max_share_frac = 0.6
max_collateral_usd = 5000000
attestation_date = 2026-11-01
max_attestation_age_days = 45

[[collateral.venues]]
name = "okx-a"
trust_score = 0.8
max_share_frac = 0.5
idle_cost_frac_per_year = { USDC = 0.03 }
band = { floor = 2.0, target = 3.0, ceiling = 5.0 }

[[collateral.routes]]
from_venue = "deribit-a"
from_sub_account = "main"
to_venue = "okx-a"
to_sub_account = "main"
currency = "USDC"
address = "0x00000000000000000000000000000000000000a1"
network = "ERC20"
fee_coin = 1.0
min_coin = 10.0
delay_s = 1800
"""


def example() -> CollateralConfig:
    return CollateralConfig.model_validate(tomllib.loads(EXAMPLE_TOML)["collateral"])


def _undescribed(model: type[BaseModel], path: str) -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        if not info.description:
            out.append(f"{path}.{name}")
        found = nested_model(info.annotation)
        if found is not None:
            out += _undescribed(found[0], f"{path}.{name}")
    return out


def test_defaults_are_valid_off_and_documented() -> None:
    """Defaults load with mode off, and every field at every depth has a description."""
    cfg = CollateralConfig()
    assert cfg.mode is CollateralMode.OFF
    assert _undescribed(CollateralConfig, "collateral") == []


def test_the_documented_toml_validates_and_converts() -> None:
    """The TOML handed to the integrator loads, and its domain views carry the right units."""
    cfg = example()
    assert cfg.mode is CollateralMode.PLAN
    assert cfg.optimizer_settings().horizon_ms == 7 * MS_PER_DAY
    trust = cfg.trust()[VenueId("deribit-a")]
    midnight = datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000
    assert trust.attestation_ts_ms == midnight
    assert trust.max_attestation_age_ms == 45 * MS_PER_DAY
    assert trust.effective_score(round(midnight) + 46 * MS_PER_DAY) == pytest.approx(0.45)
    (route,) = cfg.withdrawal_routes()
    assert (route.fee_coin, route.min_coin, route.delay_ms) == (1.0, 10.0, 1_800_000)
    assert cfg.band_for(VenueId("okx-a")) == MarginBand(2.0, 3.0, 5.0)
    assert cfg.band_for(VenueId("deribit-a")) == MarginBand(1.5, 2.5, 4.0)
    assert cfg.idle_costs(VenueId("okx-a"))[Currency("USDC")] == 0.03
    assert cfg.transfer_limits().max_daily_transfer_usd == 1_000_000


def test_whitelist_comes_from_routes_and_sub_accounts() -> None:
    """Only configured addresses (with their network) and listed sub-accounts are allowed."""
    wl = example().whitelist()
    ok = TransferRequest(
        TransferId("t1"),
        VenueId("deribit-a"),
        TransferKind.WITHDRAWAL,
        Currency("USDC"),
        5.0,
        "0x00000000000000000000000000000000000000a1",
        "ERC20",
    )
    assert wl.problem(ok) is None
    sub = TransferRequest(
        TransferId("t2"), VenueId("deribit-a"), TransferKind.SUBACCOUNT, Currency("BTC"), 1, "hedge"
    )
    assert wl.problem(sub) is None
    assert (
        wl.problem(
            TransferRequest(
                TransferId("t3"),
                VenueId("okx-a"),
                TransferKind.SUBACCOUNT,
                Currency("BTC"),
                1,
                "hedge",
            )
        )
        is not None
    )


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"band": {"floor": 3.0, "target": 2.0}}, "band"),
        ({"max_transfer_usd": 2e6}, "max_daily_transfer_usd"),
        (
            {
                "routes": [
                    {
                        "from_venue": "nowhere",
                        "to_venue": "okx-a",
                        "currency": "USDC",
                        "address": "x",
                    }
                ]
            },
            "routes.0.from_venue",
        ),
        (
            {
                "routes": [
                    {
                        "from_venue": "deribit-a",
                        "from_sub_account": "x",
                        "to_venue": "okx-a",
                        "currency": "USDC",
                        "address": "x",
                    }
                ]
            },
            "routes.0.from_sub_account",
        ),
        (
            {
                "routes": [
                    {"from_venue": "okx-a", "to_venue": "okx-a", "currency": "USDC", "address": "x"}
                ]
            },
            "routes.0.to_venue",
        ),
        (
            {
                "routes": [
                    {
                        "from_venue": "okx-a",
                        "to_venue": "deribit-a",
                        "currency": "usdc",
                        "address": "x",
                    }
                ]
            },
            "routes.0.currency",
        ),
        ({"idle_cost_frac_per_year": {"USDC": 2.0}}, "idle_cost_frac_per_year"),
        ({"venues": [{"name": "okx-a"}, {"name": "okx-a"}]}, "venues.1.name"),
        ({"venues": [{"name": "okx-a", "trust_score": 1.5}]}, "venues.0.trust_score"),
        ({"max_daily_transfer": 1}, "max_daily_transfer"),
    ],
)
def test_problems_are_reported_at_their_key(patch: dict[str, object], where: str) -> None:
    """Bad bands, caps, routes, rates, names and unknown keys point at the entry at fault."""
    data = tomllib.loads(EXAMPLE_TOML)["collateral"]
    data.update(patch)
    with pytest.raises(ValidationError) as err:
        CollateralConfig.model_validate(data)
    locs = [".".join(map(str, e["loc"])) for e in err.value.errors()]
    assert any(loc.endswith(where) or loc == where for loc in locs), locs


def test_duplicate_routes_are_refused() -> None:
    """The same route twice is a configuration mistake, not two routes."""
    data = tomllib.loads(EXAMPLE_TOML)["collateral"]
    data["routes"] = data["routes"] * 2
    with pytest.raises(ValidationError, match="same route as routes"):
        CollateralConfig.model_validate(data)
