"""Structured logging (structlog) that never writes a secret.

One chain serves structlog events and stdlib records alike (ccxt, aiohttp and
apscheduler log through ``logging``), and :class:`Redactor` runs first in it,
so no later processor, renderer or handler ever sees a secret. Output is JSON
lines when the stream is not a terminal (files, journald, CI) and a readable
console format on a terminal, unless configured otherwise. The levels and
formats are defined here and the ``[logging]`` config imports them, so ops
never imports config.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TextIO
from urllib.parse import quote

import structlog
from pydantic import SecretStr
from structlog.stdlib import ProcessorFormatter
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.secrets import MASK, looks_secret


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    """``auto`` picks console on a terminal and JSON otherwise (files, journald, CI)."""

    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


_LEVELS = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}
_META_KEYS = frozenset({"_record", "_from_structlog"})  # structlog's own, never rendered
_MAX_DEPTH = 12


class Redactor:
    """structlog processor masking secrets anywhere in an event.

    Masks the value of every key that looks secret (``api_key``, ``signature``,
    ``Authorization``, ...), every :class:`SecretStr`, and every occurrence of
    a registered secret value (also URL-encoded) inside any string, at any
    depth of dicts and lists, in the repr of other objects, and in the
    traceback of a logged exception, which it renders to text first for that.
    """

    def __init__(self, secrets: Iterable[str | SecretStr] = ()) -> None:
        values = {s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets}
        variants = {form for value in values if value for form in (value, quote(value, safe=""))}
        longest_first = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first))) if variants else None

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict = structlog.processors.format_exc_info(logger, method_name, event_dict)
        return {
            key: value if key in _META_KEYS else self._field(key, value, 0)
            for key, value in event_dict.items()
        }

    def _field(self, key: object, value: object, depth: int) -> object:
        return MASK if looks_secret(str(key)) else self._value(value, depth)

    def _value(self, value: object, depth: int) -> object:
        if isinstance(value, SecretStr):
            return MASK
        if isinstance(value, str):
            return self._scrub(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if depth < _MAX_DEPTH and isinstance(value, Mapping):
            return {k: self._field(k, v, depth + 1) for k, v in value.items()}
        if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
            items = [self._value(v, depth + 1) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        if self._pattern is None:
            return value
        text = repr(value)
        scrubbed = self._scrub(text)
        return value if scrubbed == text else scrubbed

    def _scrub(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(MASK, text)


def configure_logging(
    level: LogLevel,
    fmt: LogFormat,
    stream: TextIO,
    secrets: Iterable[str | SecretStr] = (),
) -> None:
    """Send structlog and stdlib logging at ``level`` and above to ``stream``, redacted.

    ``secrets`` are values (API keys, secrets, passphrases) to mask wherever
    they appear. Calling it again replaces the previous configuration; loggers
    are not cached, so one obtained earlier picks up the new secrets too.
    """
    as_json = fmt is LogFormat.JSON or (fmt is LogFormat.AUTO and not stream.isatty())
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[Processor] = [
        Redactor(secrets),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        cache_logger_on_first_use=False,
    )
    handler = _DeltabotHandler(stream)
    handler.setFormatter(
        ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DeltabotHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_LEVELS[level])


class _DeltabotHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installed, so reconfiguring replaces only it."""
