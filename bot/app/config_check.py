"""The refusals ``run`` meets before it touches the network, in one place: ``run`` and
``check-config`` both call :func:`startup_problems`, so a config that passes
``check-config`` does not stop ``run`` at start-up for a reason knowable offline.

Validation itself (``load_config``) is the first such check. After it come the
live confirmation, each venue's credentials and the hosts they would be sent to
(:func:`bot.venues.factory.venue_problem`, which ``build_venue`` asks too), the
journal file's type, the alert channels' variables and URLs (parsed by apprise,
offline), and in mode sim with embedded emulators the simulated world
and the hedge routes it lists (built offline, so a route they do not list is
refused here; elsewhere the listing is only known on the network, where ``run``
checks it with the same words). Credential values are never shown, only
whether each variable is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.app.errors import SimSetupError
from bot.app.sim_world import build_sim_world
from bot.config import Config, Mode
from bot.engine.alert_channels import channel_problems, channel_status
from bot.engine.routes import unlisted_route
from bot.journal import JournalError
from bot.journal.file import check_type
from bot.secrets import MASK, credential_vars
from bot.venues.factory import live_confirmation_problem, venue_problem

Problem = tuple[str, str]
"""A key path of the config and what is wrong there."""


def startup_problems(config: Config, environ: Mapping[str, str]) -> list[Problem]:
    """Every reason ``run`` would refuse to start this validated config, found offline."""
    live = live_confirmation_problem(config.mode, environ)
    problems = [("mode", live)] if live is not None else []
    for i, venue in enumerate(config.venues):
        problem = venue_problem(venue, config.mode, environ)
        if problem is not None:
            problems.append((f"venues[{i}]", problem))
    try:
        check_type(config.daemon.journal_path)
    except JournalError as exc:
        problems.append(("daemon.journal_path", str(exc)))
    return problems + channel_problems(config.alerts, environ) + _sim_problems(config)


def _sim_problems(config: Config) -> list[Problem]:
    """The embedded simulator's world and the routes it lists (none checked in other modes or
    with standalone emulators: their listing is only known on the network)."""
    if config.mode is not Mode.SIM or any(v.api_url for v in config.venues):
        return []
    try:
        world = build_sim_world(config)
    except SimSetupError as exc:
        return [("sim", str(exc))]
    problems = []
    for i, route in enumerate(config.hedges):
        listed = world.venues[route.venue].exchange.hedge_symbols()
        problem = unlisted_route(route.symbol, route.venue, listed)
        if problem is not None:
            problems.append((f"hedges[{i}].symbol", problem))
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


def alert_status(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """Each alert channel: name, variable, lowest severity, URL masked to its scheme."""
    return channel_status(config.alerts, environ)


def stream_status(config: Config) -> list[tuple[str, str]]:
    """Each venue's event stream as ``run`` would start it: ``streaming``, or off and why."""
    stream = config.stream
    rows = []
    for venue in config.venues:
        if stream.streams(venue.name, venue.exchange.value):
            status = "streaming (websocket triggers, REST reads)"
        elif not stream.enabled:
            status = "off: [stream] enabled = false"
        elif venue.name in stream.rest_only:
            status = "off: [stream] rest_only"
        else:
            status = f"off: REST only ({venue.exchange.value} has no stream support)"
        rows.append((str(venue.name), status))
    return rows
