"""deltabot configuration: pydantic-settings models, loaded from TOML with env overrides.

Import from here; the submodules are an implementation detail:
``base`` (shared model pieces), ``model`` (top level and small sections),
``venues``, ``sim``, and ``loader`` (file + environment -> :class:`Config`).
"""

from bot.config.base import FrozenModel, UtcDatetime
from bot.config.loader import (
    CONFIG_PATH_VAR,
    DEFAULT_CONFIG_PATH,
    ConfigError,
    format_problem,
    load_config,
    resolve_config_path,
)
from bot.config.model import Config, LoggingConfig, Mode
from bot.config.risk import RiskConfig
from bot.config.sim import SimBalance, SimConfig, SimPosition, SimUnderlying
from bot.config.venues import Exchange, VenueConfig, VenueRole
from bot.domain.exposure import Numeraire

__all__ = [
    "CONFIG_PATH_VAR",
    "DEFAULT_CONFIG_PATH",
    "Config",
    "ConfigError",
    "Exchange",
    "FrozenModel",
    "LoggingConfig",
    "Mode",
    "Numeraire",
    "RiskConfig",
    "SimBalance",
    "SimConfig",
    "SimPosition",
    "SimUnderlying",
    "UtcDatetime",
    "VenueConfig",
    "VenueRole",
    "format_problem",
    "load_config",
    "resolve_config_path",
]
