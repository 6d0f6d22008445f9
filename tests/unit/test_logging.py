"""Logging: JSON or console output, level filtering, and no secret in any format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import structlog
from pydantic import SecretStr

from bot.ops.logging import LogFormat, LogLevel, Redactor, configure_logging
from bot.secrets import MASK

SECRET = "Zq9-live-secret/+value"
API_KEY = "AKxx-live-key-0001"


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def emit_everything() -> None:
    """Log the secrets every way a careless caller could."""
    log = structlog.get_logger("deltabot.test")
    log.info(
        "request",
        url=f"https://deribit/api/v2/private/get?client_secret={SECRET}",
        encoded_url=f"https://x/?s={quote(SECRET, safe='')}",
        api_key=API_KEY,
        headers={"Authorization": f"Bearer {API_KEY}", "Accept": "json"},
        credentials=[SecretStr(SECRET), {"nested": f"key={API_KEY}"}],
        raw=(b"secret=" + SECRET.encode()),
    )
    try:
        raise RuntimeError(f"auth failed for {API_KEY}")
    except RuntimeError as exc:
        log.exception("venue error", error=exc)
    logging.getLogger("ccxt.base.exchange").warning("GET %s", f"https://x/?apiKey={API_KEY}")


@pytest.mark.parametrize(
    ("fmt", "stream_type"),
    [
        (LogFormat.JSON, io.StringIO),
        (LogFormat.CONSOLE, io.StringIO),
        (LogFormat.AUTO, io.StringIO),
        (LogFormat.AUTO, TtyStream),
        (LogFormat.JSON, TtyStream),
    ],
)
def test_no_secret_reaches_the_output(fmt: LogFormat, stream_type: type[io.StringIO]) -> None:
    """In every format, registered secret values and secret-named fields are masked."""
    stream = stream_type()
    configure_logging(LogLevel.DEBUG, fmt, stream, secrets=[SecretStr(SECRET), API_KEY])
    emit_everything()
    out = stream.getvalue()
    assert "request" in out
    assert "venue error" in out
    assert "RuntimeError" in out
    assert "GET https://x/?apiKey=" in out
    assert MASK in out
    for value in (SECRET, API_KEY, quote(SECRET, safe=""), "live-secret", "live-key"):
        assert value not in out


def test_json_when_not_a_tty_and_console_on_a_tty() -> None:
    """format auto writes JSON lines to a pipe or file and console text to a terminal."""
    pipe, tty = io.StringIO(), TtyStream()
    configure_logging(LogLevel.INFO, LogFormat.AUTO, pipe)
    structlog.get_logger("t").info("hello", n=1)
    record = json.loads(pipe.getvalue())
    assert (record["event"], record["n"], record["level"], record["logger"]) == (
        "hello",
        1,
        "info",
        "t",
    )
    assert record["timestamp"].endswith("Z")
    configure_logging(LogLevel.INFO, LogFormat.AUTO, tty)
    structlog.get_logger("t").info("hello", n=1)
    assert "hello" in tty.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(tty.getvalue())


def test_console_format_on_a_pipe_has_no_colour_codes() -> None:
    """format console on a non-terminal writes plain text."""
    stream = io.StringIO()
    configure_logging(LogLevel.INFO, LogFormat.CONSOLE, stream)
    structlog.get_logger("t").warning("careful", venue="deribit-a")
    out = stream.getvalue()
    assert "careful" in out
    assert "venue=deribit-a" in out
    assert "\x1b[" not in out


def test_level_filters_structlog_and_stdlib() -> None:
    """Below the configured level nothing is written, from structlog or stdlib loggers."""
    stream = io.StringIO()
    configure_logging(LogLevel.WARNING, LogFormat.JSON, stream)
    structlog.get_logger("t").info("quiet")
    logging.getLogger("aiohttp").info("quiet too")
    structlog.get_logger("t").warning("loud")
    logging.getLogger("aiohttp").error("loud too")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["loud", "loud too"]


def test_reconfiguring_replaces_stream_and_secrets() -> None:
    """A second configure_logging writes only to the new stream and masks the new secrets."""
    first, second = io.StringIO(), io.StringIO()
    log = structlog.get_logger("t")
    configure_logging(LogLevel.INFO, LogFormat.JSON, first)
    configure_logging(LogLevel.INFO, LogFormat.JSON, second, secrets=[API_KEY])
    log.info("again", note=f"key {API_KEY}")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["note"] == f"key {MASK}"


def test_redactor_masks_by_name_type_and_value() -> None:
    """The processor masks secret-named keys, SecretStr anywhere, and registered values."""
    redact = Redactor(secrets=["tok-123", ""])
    out = redact(
        None,
        "info",
        {
            "event": "x tok-123 y",
            "password": 42,
            "items": [SecretStr("anything"), ("tok-123",)],
            "meta": {"Signature": "abc", "count": 3, "ok": True, "none": None},
            "ratio": 0.5,
        },
    )
    assert out == {
        "event": f"x {MASK} y",
        "password": MASK,
        "items": [MASK, (MASK,)],
        "meta": {"Signature": MASK, "count": 3, "ok": True, "none": None},
        "ratio": 0.5,
    }


def test_redactor_keeps_objects_without_secrets_untouched() -> None:
    """Objects whose repr holds no secret pass through as themselves."""
    marker = object()
    out = Redactor(secrets=["tok-123"])(None, "info", {"event": "e", "obj": marker})
    assert out["obj"] is marker


def test_redactor_survives_self_referencing_structures() -> None:
    """A dict that contains itself is redacted without recursing forever."""
    loop: dict[str, object] = {"token": "t"}
    loop["self"] = loop
    out = Redactor(secrets=["t0k"])(None, "info", {"event": "e", "loop": loop})
    assert out["loop"]["token"] == MASK
