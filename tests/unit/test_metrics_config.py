"""[metrics] config: defaults, port range, and the loopback-only rule."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from bot.config.metrics import MetricsConfig


def test_defaults_serve_on_loopback_port_9108_and_are_documented() -> None:
    """Defaults: enabled on 127.0.0.1:9108, loopback only, and every field has a description."""
    cfg = MetricsConfig()
    assert (cfg.enabled, cfg.host, cfg.port, cfg.allow_non_loopback) == (
        True,
        "127.0.0.1",
        9108,
        False,
    )
    assert all(f.description for f in MetricsConfig.model_fields.values())


@pytest.mark.parametrize("port", [0, 1, 65535])
def test_ports_in_range_are_accepted(port: int) -> None:
    """0 (pick a free port) through 65535 load."""
    assert MetricsConfig(port=port).port == port


@pytest.mark.parametrize("port", [-1, 65536])
def test_ports_out_of_range_are_refused(port: int) -> None:
    """A port outside 0..65535 is reported at the port key."""
    with pytest.raises(ValidationError, match="port"):
        MetricsConfig(port=port)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1"])
def test_loopback_hosts_need_no_permission(host: str) -> None:
    """Any loopback address loads without allow_non_loopback."""
    assert MetricsConfig(host=host).host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "metrics.internal"])
def test_a_non_loopback_host_needs_allow_non_loopback(host: str) -> None:
    """Without allow_non_loopback a non-loopback host fails at the host key; with it, it loads."""
    with pytest.raises(ValidationError, match=r"host\n  .* is not a loopback address"):
        MetricsConfig(host=host)
    assert MetricsConfig(host=host, allow_non_loopback=True).host == host


def test_the_model_is_frozen_and_refuses_unknown_keys() -> None:
    """Assignment fails and a misspelt key is an error, not silently ignored."""
    cfg = MetricsConfig()
    with pytest.raises(ValidationError):
        cfg.port = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="allow_non_loopbak"):
        MetricsConfig.model_validate({"allow_non_loopbak": True})


def test_toml_values_validate() -> None:
    """A [metrics] table as parsed from TOML validates to the same model."""
    table = tomllib.loads(
        'enabled = false\nhost = "127.0.0.1"\nport = 0\nallow_non_loopback = false\n'
    )
    assert MetricsConfig.model_validate(table) == MetricsConfig(enabled=False, port=0)
