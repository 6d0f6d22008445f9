"""What ``deltabot check-config`` adds to validation: the credentials and alert URLs the
environment holds, and the hedge routes where the venue's listing is known before any network.

A half-set key pair is a problem in any mode; a missing one only where the
mode trades on a real account. Values are never shown, only whether each
variable is set. In mode sim with embedded emulators the simulated venues'
listings are built offline, so a route they do not list is refused here, as
``run`` would refuse it at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.app.sim_world import build_sim_world
from bot.config import Config, Mode
from bot.engine.alert_channels import channel_problems, channel_status
from bot.engine.routes import unlisted_route
from bot.secrets import MASK, CredentialsError, credential_vars, venue_credentials

_NEEDS_CREDENTIALS = (Mode.SANDBOX, Mode.LIVE)


def credential_problems(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Half-set credential pairs, and missing ones where the mode trades on a real account."""
    problems = []
    for i, venue in enumerate(config.venues):
        try:
            creds = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
        except CredentialsError as exc:
            problems.append((f"venues[{i}]", str(exc)))
            continue
        if creds is None and config.mode in _NEEDS_CREDENTIALS:
            names = credential_vars(venue.name, testnet=venue.testnet)
            problems.append(
                (
                    f"venues[{i}]",
                    f"mode {config.mode.value} needs credentials: "
                    f"set {names.api_key} and {names.api_secret}",
                )
            )
    return problems


def credential_status(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each venue's credential variables and whether each is set (masked), never the value."""
    rows = []
    for venue in config.venues:
        names = credential_vars(venue.name, testnet=venue.testnet)
        for var, unset in (
            (names.api_key, "not set"),
            (names.api_secret, "not set"),
            (names.password, "not set (only for exchanges with a passphrase)"),
        ):
            rows.append((var, f"set {MASK}" if environ.get(var) else unset))
    return rows


def route_problems(config: Config) -> list[tuple[str, str]]:
    """Routes the embedded simulator's venues do not list (none checked in other modes: the
    listing is only known on the network, where ``run`` checks it at start-up)."""
    if config.mode is not Mode.SIM or any(v.api_url for v in config.venues):
        return []
    world = build_sim_world(config)
    problems = []
    for i, route in enumerate(config.hedges):
        listed = world.venues[route.venue].exchange.hedge_symbols()
        problem = unlisted_route(route.symbol, route.venue, listed)
        if problem is not None:
            problems.append((f"hedges[{i}].symbol", problem))
    return problems


def alert_problems(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Alert channels whose variable is unset or holds a URL apprise cannot parse (offline)."""
    return channel_problems(config.alerts, environ)


def alert_status(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """Each alert channel: name, variable, lowest severity, URL masked to its scheme."""
    return channel_status(config.alerts, environ)
