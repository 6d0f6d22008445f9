"""The deployment kit (Dockerfile, compose, Prometheus, Grafana, systemd, testnet example)
agrees with the code: files parse, every metric a rule or panel reads exists, every mounted
file is there, the image installs from the lock, the example passes check-config."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.config_check import startup_problems
from bot.config import load_config
from bot.ops.metrics import DaemonMetrics

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_OWN = frozenset({"up"})
"""Series Prometheus makes itself, not the daemon."""
AWAITING = frozenset({"deltabot_alerts_total"})
"""Metrics another part of issue 12 adds (the alerts' event counter); empty this at the merge."""
METRIC = re.compile(r"\b(deltabot_[a-z0-9_]+|up)\b(?!\s*\()")


def load_yaml(path: Path) -> Any:
    """``path`` parsed as YAML."""
    return yaml.safe_load(path.read_text())


def exported_names() -> set[str]:
    """Every series name a fresh daemon's registry can expose, with the suffixes Prometheus
    adds (a labelled metric has no sample until first set, so names come from the types)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
    }
    return {
        metric.name + suffix
        for metric in DaemonMetrics().registry.collect()
        for suffix in suffixes[metric.type]
    }


def rule_expressions() -> list[str]:
    """The expression of every alerting rule."""
    groups = load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    """The provisioned Grafana dashboard."""
    loaded: dict[str, Any] = json.loads(
        (DEPLOY / "grafana" / "dashboards" / "deltabot.json").read_text()
    )
    return loaded


def panel_expressions() -> list[str]:
    """The PromQL of every dashboard panel's targets."""
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def metric_names(expressions: list[str]) -> set[str]:
    """Metric names read by PromQL ``expressions`` (functions like ``time()`` excluded)."""
    return {name for expr in expressions for name in METRIC.findall(expr)}


def compose() -> dict[str, Any]:
    """compose.yaml, parsed."""
    loaded: dict[str, Any] = load_yaml(REPO / "compose.yaml")
    return loaded


class TestFilesParse:
    @pytest.mark.parametrize(
        "path",
        [REPO / "compose.yaml", *sorted(DEPLOY.rglob("*.yml"))],
        ids=lambda p: str(p.relative_to(REPO)),
    )
    def test_yaml_parses_to_a_mapping(self, path: Path) -> None:
        """Each YAML file of the kit parses and is a mapping at the top."""
        assert isinstance(load_yaml(path), dict)

    def test_every_rule_has_severity_summary_and_description(self) -> None:
        """An alert without a severity or words is one nobody can route or act on."""
        groups = load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len({rule["alert"] for rule in rules}) == len(rules)
        for rule in rules:
            assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            assert rule["annotations"]["description"], rule["alert"]

    def test_dashboard_panels_use_the_provisioned_data_source(self) -> None:
        """Every panel and target names the data source uid provisioning creates."""
        sources = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
        uid = sources["datasources"][0]["uid"]
        panels = [p for p in dashboard()["panels"] if p["type"] != "row"]
        assert panels
        for panel in panels:
            assert panel["datasource"]["uid"] == uid, panel["title"]
            assert panel["targets"], panel["title"]
            assert {t["datasource"]["uid"] for t in panel["targets"]} == {uid}


class TestMetricNames:
    def test_the_pattern_finds_names_and_skips_functions(self) -> None:
        """The name scan sees series and suffixes, not functions or label values."""
        expr = 'time() - deltabot_x_seconds > 1 and up{job="deltabot"} == 0'
        assert metric_names([expr]) == {"deltabot_x_seconds", "up"}

    def test_rules_read_only_exported_metrics(self) -> None:
        """Every metric an alerting rule reads is exported by the daemon (or Prometheus's own,
        or awaited from another part of the issue)."""
        used = metric_names(rule_expressions())
        assert used - exported_names() - PROMETHEUS_OWN - AWAITING == set()
        assert {"deltabot_trading_state", "deltabot_margin_ratio"} <= used

    def test_dashboard_reads_only_exported_metrics(self) -> None:
        """Every metric a Grafana panel reads is exported, histogram suffixes included."""
        used = metric_names(panel_expressions())
        assert used - exported_names() == set()
        assert "deltabot_cycle_duration_seconds_bucket" in used

    def test_dashboard_shows_each_greek_and_the_risk_views(self) -> None:
        """The panels the issue asks for: Greeks, hedges, orders, latency, margin, stress, state."""
        used = metric_names(panel_expressions())
        assert {
            "deltabot_delta_coin",
            "deltabot_gamma_coin_per_pct",
            "deltabot_vega_usd_per_volpt",
            "deltabot_theta_usd_per_day",
            "deltabot_hedge_position_coin",
            "deltabot_orders_sent_total",
            "deltabot_order_outcomes_total",
            "deltabot_margin_ratio",
            "deltabot_liquidation_distance_ratio",
            "deltabot_worst_stress_loss_usd",
            "deltabot_trading_state",
        } <= used

    def test_a_misspelt_metric_would_fail(self) -> None:
        """The check can fail: a name the daemon does not export is found missing."""
        assert metric_names(["deltabot_delta_btc"]) - exported_names() == {"deltabot_delta_btc"}


class TestCompose:
    def test_every_mounted_file_exists(self) -> None:
        """Each bind mount's source (relative to the repo) is in the repository."""
        for name, service in compose()["services"].items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("./"):
                    assert (REPO / source).exists(), f"{name}: {source}"

    def test_required_env_files_exist(self) -> None:
        """An env_file not marked optional is in the repository (secrets files are optional)."""
        for service in compose()["services"].values():
            for entry in service.get("env_file", []):
                if isinstance(entry, dict) and entry.get("required") is False:
                    continue
                assert (REPO / (entry if isinstance(entry, str) else entry["path"])).exists()

    def test_images_are_pinned_and_ports_stay_on_loopback(self) -> None:
        """No floating image tag, and every published port binds the host's 127.0.0.1."""
        for name, service in compose()["services"].items():
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), name
            for port in service.get("ports", []):
                assert port.startswith("127.0.0.1:"), f"{name}: {port}"

    def test_prometheus_rule_files_and_scrape_target_are_wired(self) -> None:
        """Prometheus loads the mounted alerts.yml and scrapes the deltabot service's port."""
        services = compose()["services"]
        mounts = dict(v.split(":")[1::-1] for v in services["prometheus"]["volumes"])
        config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
        for rule_file in config["rule_files"]:
            assert mounts[rule_file] == "./deploy/prometheus/alerts.yml"
        targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
        docker = load_config(DEPLOY / "docker" / "config.toml", {})
        assert targets == [f"deltabot:{docker.metrics.port}"]
        assert (
            f"127.0.0.1:{docker.metrics.port}:{docker.metrics.port}"
            in services["deltabot"]["ports"]
        )

    def test_grafana_provisioning_points_at_the_mounted_dashboards(self) -> None:
        """The dashboard provider's path is where compose mounts deploy/grafana/dashboards."""
        volumes = compose()["services"]["grafana"]["volumes"]
        mounts = dict(v.split(":")[1::-1] for v in volumes)
        provider = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "deltabot.yml")
        path = provider["providers"][0]["options"]["path"]
        assert mounts[path] == "./deploy/grafana/dashboards"


class TestDockerImage:
    def test_installs_exactly_from_the_lock_then_the_package_without_deps(self) -> None:
        """The lock goes in first with --no-deps, then the package with --no-deps."""
        text = (REPO / "Dockerfile").read_text()
        lock = text.index("pip install --no-deps -r requirements.lock")
        package = text.index("pip install --no-deps --no-build-isolation .")
        assert lock < package
        assert re.search(r"^FROM python:3\.11\.\d+-slim", text, re.MULTILINE)

    def test_runs_as_a_user_with_a_health_check_and_no_secret(self) -> None:
        """USER is not root, HEALTHCHECK asks /health, and nothing sets a credential."""
        text = (REPO / "Dockerfile").read_text()
        assert re.search(r"^USER deltabot$", text, re.MULTILINE)
        assert "/health" in text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
        assert "API_KEY" not in text
        assert "API_SECRET" not in text

    def test_the_build_context_leaves_secrets_and_journals_out(self) -> None:
        """.dockerignore starts from nothing and excludes env files and journals again."""
        lines = (REPO / ".dockerignore").read_text().splitlines()
        assert "*" in lines
        assert {"**/*.env", "**/.env*", "**/*.sqlite*"} <= set(lines)

    def test_container_config_binds_every_interface_on_purpose(self) -> None:
        """The container's config loads, binds 0.0.0.0 with allow_non_loopback and keeps its
        journal on the volume, and passes run's start-up checks."""
        config = load_config(DEPLOY / "docker" / "config.toml", {})
        assert (config.metrics.host, config.metrics.allow_non_loopback) == ("0.0.0.0", True)
        assert config.daemon.journal_path.parent == Path("/var/lib/deltabot")
        assert startup_problems(config, {}) == []


class TestSystemdUnit:
    def unit(self) -> configparser.ConfigParser:
        """deploy/systemd/deltabot.service, parsed (keys keep their case)."""
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(DEPLOY / "systemd" / "deltabot.service")
        return parser

    def test_notify_with_watchdog_and_restart(self) -> None:
        """Type=notify, a watchdog, restart on failure but not on a refusal to start (exit 2)."""
        service = self.unit()["Service"]
        assert service["Type"] == "notify"
        assert int(service["WatchdogSec"]) > 0
        assert service["Restart"] == "on-failure"
        assert service["RestartPreventExitStatus"] == "2"

    def test_dedicated_user_hardening_and_secrets_file(self) -> None:
        """A non-root user, a read-only system but the journal directory, keys from a file."""
        service = self.unit()["Service"]
        assert service["User"] == "deltabot"
        assert service["ProtectSystem"] == "strict"
        assert service["ReadWritePaths"] == "/var/lib/deltabot"
        assert service["NoNewPrivileges"] == "true"
        assert "AF_UNIX" in service["RestrictAddressFamilies"]
        assert service["EnvironmentFile"].startswith("/etc/deltabot/")


class TestTestnetExample:
    def test_loads_and_passes_checks_with_placeholder_keys(self) -> None:
        """examples/deribit-testnet.toml is mode sandbox on one testnet Deribit venue and
        passes every offline start-up check once its two variables are set."""
        environ = {
            "DELTABOT_VENUE_DERIBIT_TESTNET_API_KEY": "placeholder-key",
            "DELTABOT_VENUE_DERIBIT_TESTNET_API_SECRET": "placeholder-secret",
        }
        config = load_config(REPO / "examples" / "deribit-testnet.toml", environ)
        assert config.mode.value == "sandbox"
        assert [(v.exchange.value, v.testnet) for v in config.venues] == [("deribit", True)]
        assert startup_problems(config, environ) == []

    def test_without_keys_it_names_the_variables(self) -> None:
        """Without the keys, the check names exactly the two variables to export."""
        config = load_config(REPO / "examples" / "deribit-testnet.toml", {})
        [(key, message)] = startup_problems(config, {})
        assert key == "venues[0]"
        assert "DELTABOT_VENUE_DERIBIT_TESTNET_API_KEY" in message
