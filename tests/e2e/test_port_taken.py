"""A port already taken is one line naming the port and the setting to change, exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.daemon_harness import REPO, cli_env

EXAMPLE = REPO / "config.example.toml"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False,
        cwd=REPO,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr


def test_run_names_the_metrics_port_and_its_key(taken_port: int, tmp_path: Path) -> None:
    """deltabot run on a taken [metrics] port says which port and which key, exit 2, and
    logs no crash."""
    env = {
        "DELTABOT_METRICS__PORT": str(taken_port),
        "DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
    }
    code, err = _run(["run", "--config", str(EXAMPLE)], env)
    assert code == 2 and "Traceback" not in err and "Errno" not in err
    assert "daemon_crashed" not in err  # a refusal to start is no crash
    assert err.strip().splitlines()[-1] == (
        f"deltabot run: cannot start: port {taken_port} on 127.0.0.1 is in use: set [metrics] "
        "port (or DELTABOT_METRICS__PORT) to a free port, or 0 for any"
    )


def test_sim_venue_names_its_port_option(taken_port: int) -> None:
    """deltabot sim-venue --port on a taken port says to change --port, in one line, exit 2."""
    code, err = _run(["sim-venue", "--port", str(taken_port), "--seed", "1"], {})
    assert code == 2
    assert err.strip().splitlines() == [
        f"sim-venue: port {taken_port} on 127.0.0.1 is in use: set --port to a free port, "
        "or 0 for any"
    ]
