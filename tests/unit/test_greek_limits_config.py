"""[greek_limits] config: defaults, the domain limits, and each bad entry refused at its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.domain.greek_limits import GreekLimit
from bot.domain.ids import Currency

BASE = """
[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["options", "hedge"]

[sim]
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = 60000.0
vol = 0.6

[greek_limits]
bucket_edges_days = [7, 30]
"""


def _limit(**keys: object) -> str:
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in keys.items())
    return f"\n[[greek_limits.limits]]\n{body}\n"


def _errors(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "deltabot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    return dict(info.value.errors)


def test_limits_become_domain_values(tmp_path: Path) -> None:
    """A limit table is a GreekLimit with the same figures; unset ones are None."""
    path = tmp_path / "deltabot.toml"
    path.write_text(BASE + _limit(underlying="BTC", bucket="7-30d", hard_vega_usd_per_volpt=5e3))
    limits = load_config(path, {}).greek_limits.domain_limits()
    assert limits == (GreekLimit(Currency("BTC"), "7-30d", hard_vega_usd_per_volpt=5e3),)


def test_soft_above_hard_is_refused(tmp_path: Path) -> None:
    """A soft limit above its hard one is an error on that limit."""
    text = BASE + _limit(underlying="BTC", soft_gamma_usd_per_pct=9.0, hard_gamma_usd_per_pct=5.0)
    (key, message), *_ = _errors(tmp_path, text).items()
    assert key == "greek_limits.limits[0]" and "soft_gamma_usd_per_pct 9.0 is above" in message


def test_a_bucket_not_made_from_the_edges_is_refused(tmp_path: Path) -> None:
    """Bucket names come from bucket_edges_days: 30-90d does not exist with edges (7, 30)."""
    found = _errors(tmp_path, BASE + _limit(underlying="BTC", bucket="30-90d"))
    assert "'30-90d' is none of" in found["greek_limits.limits[0].bucket"]


def test_a_second_limit_on_one_bucket_is_refused(tmp_path: Path) -> None:
    """Two limits on one underlying and bucket would contradict each other."""
    text = BASE + _limit(underlying="BTC") + _limit(underlying="BTC")
    assert "a second limit on BTC all" in _errors(tmp_path, text)["greek_limits.limits[1].bucket"]


def test_an_unconfigured_underlying_is_refused(tmp_path: Path) -> None:
    """A limit on a coin the bot does not know would never fire."""
    found = _errors(tmp_path, BASE + _limit(underlying="BTX"))
    assert "'BTX' is not configured" in found["greek_limits.limits[0].underlying"]


def test_edges_must_ascend(tmp_path: Path) -> None:
    """Bucket edges out of order are refused at their key."""
    found = _errors(tmp_path, BASE.replace("[7, 30]", "[30, 7]"))
    assert "must ascend" in found["greek_limits.bucket_edges_days"]
