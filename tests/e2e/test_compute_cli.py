"""Heavy commands on every runner: the same ``--json`` serially, on a local cluster and on a
loopback cluster of separate processes; resuming a killed sweep; Ctrl-C; a lost worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest

from bot.backtest import GBM, Book, Costs, OptionLeg, StrategySpec, run_backtest
from bot.compute import open_runner
from tests.dask_cluster import LoopbackCluster, loopback_cluster

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 300
"""Bound on one command (the two cores are shared with other work)."""
BAND = ("--strategy", "band", "--param", "width_up=0.05", "--param", "width_down=0.05")
BOOK = ["--option", "call:100:0.0833:-1", "--steps", "12", "--chunk-paths", "500"]
GRID = """
seeds = [1, 2]

[[strategies]]
name = "band"
params = { width_down = 0.05 }
grid = { width_up = [0.02, 0.1] }

[[models]]
model = "gbm"
vol = 0.2

[[models]]
model = "merton"
vol = 0.2
jump_intensity = 2.0

[[costs]]
fee = 0.0005

[[costs]]
fee = 0.001
spread = 0.0004
"""
"""Eight groups (2 models x 2 cost levels x 2 seeds) of two strategies: 16 cells."""


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "backtest", *BOOK, *args]


def deltabot(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot backtest BOOK ARGS` to the end."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        command(*args), cwd=REPO, env=env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def on_every_runner(cluster: LoopbackCluster, *args: str) -> list[subprocess.CompletedProcess[str]]:
    """`python -m bot ARGS` serially, on a 2-worker local cluster and on ``cluster``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return [
        subprocess.run([sys.executable, "-m", "bot", *args, "--scheduler", *where], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                       check=False)
        for where in (["serial"], ["local", "--workers", "2"], [cluster.address])
    ]  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> object:
    """A scheduler and two workers, each its own process on 127.0.0.1, for the module."""
    with loopback_cluster(2) as running:
        yield running


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return path


def sweep(grid: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return deltabot("--paths", "1000", "--grid", str(grid), "--json", *args)


class TestSameResultOnEveryRunner:
    def test_a_sweep(self, grid: Path, cluster: LoopbackCluster) -> None:
        """A 16-cell sweep prints the same JSON serially, on a 2-worker local cluster and on
        the loopback cluster of a scheduler and two worker processes."""
        runs = [
            sweep(grid, "--scheduler", "serial"),
            sweep(grid, "--scheduler", "local", "--workers", "2"),
            sweep(grid, "--scheduler", cluster.address),
        ]
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        assert len(json.loads(runs[0].stdout)["cells"]) == 16
        assert runs[1].stdout == runs[0].stdout == runs[2].stdout

    def test_a_single_backtest(self, cluster: LoopbackCluster) -> None:
        """One backtest of three chunks prints the same JSON serially and on the cluster."""
        args = ("--paths", "1500", *BAND, "--json")
        serial = deltabot(*args, "--scheduler", "serial")
        remote = deltabot(*args, "--scheduler", cluster.address)
        assert (serial.returncode, remote.returncode) == (0, 0), remote.stderr
        assert serial.stdout == remote.stdout

    def test_the_stress_report(self, cluster: LoopbackCluster) -> None:
        """`deltabot stress --json` on the example book prints the same JSON serially, on a
        2-worker local cluster and on the loopback cluster."""
        runs = on_every_runner(cluster, "stress", "--config", "config.example.toml", "--json")
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        assert runs[1].stdout == runs[0].stdout == runs[2].stdout

    def test_the_recorded_backtest(self, cluster: LoopbackCluster) -> None:
        """`deltabot backtest --history` of five strategies over the sample store prints the
        same JSON serially, on a 2-worker local cluster and on the loopback cluster."""
        runs = on_every_runner(
            cluster, "backtest", "--config", "config.example.toml",
            "--history", "examples/sample-chains", "--strategy", "band",
            "--param", "width_down=0.05", "--grid", "width_up=0.02,0.05,0.1",
            "--strategy", "interval", "--param", "interval_s=3600", "--json",
        )  # fmt: skip
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        assert len(json.loads(runs[0].stdout)["strategies"]) == 5
        assert runs[1].stdout == runs[0].stdout == runs[2].stdout

    def test_the_collateral_what_if(self, cluster: LoopbackCluster) -> None:
        """`deltabot collateral what-if --json` (41 moves x 3 cap cases) prints the same JSON
        serially, on a 2-worker local cluster and on the loopback cluster."""
        args = ("collateral", "what-if", "--config", "config.example.toml", "--json")
        runs = on_every_runner(cluster, *args)
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        assert any(s["transfers"] for s in json.loads(runs[0].stdout)["scenarios"])
        assert runs[1].stdout == runs[0].stdout == runs[2].stdout


class TestResume:
    def test_stored_groups_are_skipped_and_the_result_is_the_same(
        self, grid: Path, tmp_path: Path
    ) -> None:
        """With three group files gone (as after a kill), --resume runs only those three
        groups and prints what the whole sweep printed."""
        out = tmp_path / "results"
        whole = sweep(grid, "--scheduler", "serial", "--out", str(out))
        parts = sorted(out.glob("part-*.parquet"))
        assert whole.returncode == 0 and len(parts) == 8
        for part in parts[:3]:
            part.unlink()
        resumed = sweep(grid, "--scheduler", "serial", "--out", str(out), "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout == whole.stdout
        assert "3/3 groups" in resumed.stderr

    def test_a_killed_sweep_resumes_to_the_same_result(self, grid: Path, tmp_path: Path) -> None:
        """Killed (SIGKILL) once a group is stored, the sweep resumes to the uninterrupted
        sweep's output."""
        out = tmp_path / "killed"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        args = command("--paths", "1000", "--grid", str(grid), "--json", "--scheduler", "serial")
        proc = subprocess.Popen([*args, "--out", str(out)], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while proc.poll() is None and not list(out.glob("part-*.parquet")):
                psutil.wait_procs([psutil.Process(proc.pid)], timeout=0.02)
        finally:
            proc.kill()
            proc.wait()
        resumed = sweep(grid, "--scheduler", "serial", "--out", str(out), "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout == sweep(grid, "--scheduler", "serial").stdout

    def test_resuming_another_sweep_is_refused(self, grid: Path, tmp_path: Path) -> None:
        """A results directory of a different run size is refused with one line, exit 2."""
        out = tmp_path / "results"
        assert sweep(grid, "--scheduler", "serial", "--out", str(out)).returncode == 0
        other = deltabot("--paths", "900", "--grid", str(grid), "--out", str(out), "--resume")
        assert other.returncode == 2
        assert "holds a different sweep" in other.stderr and "Traceback" not in other.stderr


def test_a_failing_group_names_its_parameters_and_the_rest_complete(tmp_path: Path) -> None:
    """A recorded-price model without an iv column (and no --pricing-vol) fails inside its
    chunks: its groups are reported with their model, costs and seed; the GBM cells complete;
    exit 1."""
    hours = np.arange(24 * 60)
    rows = [f"{3600 * h},{100.0 * np.exp(0.001 * np.sin(h))}" for h in hours]
    (tmp_path / "prices.csv").write_text("timestamp,price\n" + "\n".join(rows) + "\n")
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'seeds = [1]\n[[strategies]]\nname = "band"\n'
        'params = { width_up = 0.05, width_down = 0.05 }\n[[models]]\nmodel = "gbm"\n'
        f'[[models]]\nmodel = "csv"\ncsv = "{tmp_path / "prices.csv"}"\n'
    )
    done = sweep(grid, "--scheduler", "serial")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert [c["model"] for c in report["cells"]] == ["gbm"]
    [(key, message)] = report["failed"].items()
    assert key == "m1-c0-s0"
    assert "model csv csv=" in message and "seed 1" in message and "no pricing vol" in message


@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-command", "as-a-terminal"])
def test_ctrl_c_stops_the_local_cluster(to_group: bool) -> None:
    """SIGINT once the local cluster is up, to the command or (as a terminal's Ctrl-C) to its
    whole process group: exit 130, one line and no traceback, no worker process left."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = command("--paths", "400000", *BAND, "--scheduler", "local", "--workers", "2")
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        # The cluster's announcement: its workers are up (or the command ended without one).
        lines = iter(proc.stderr.readline, "")
        first = next((line for line in lines if "local Dask cluster" in line), "")
        assert first.startswith("local Dask cluster: 2 workers") and "started in" in first
        children = psutil.Process(proc.pid).children(recursive=True)
        if to_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=RUN_TIMEOUT_S)[1]
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "deltabot backtest: interrupted" in rest and "Traceback" not in rest
    _gone, alive = psutil.wait_procs(children, timeout=RUN_TIMEOUT_S)
    assert len(children) >= 2 and alive == []


def test_a_killed_workers_chunks_are_recomputed() -> None:
    """A worker process killed mid-run (SIGKILL) loses nothing: the scheduler reruns its
    chunks on the other worker and the result equals the serial one, bit for bit."""
    book = Book((OptionLeg(True, 100.0, 1 / 12, -1.0),))
    specs = [StrategySpec("band", {"width_up": 0.05, "width_down": 0.05})]
    kwargs = {"paths": 8000, "steps": 24, "seed": 3, "chunk_paths": 500}
    serial = run_backtest(book, GBM(100.0, 0.3), specs, Costs(fee_frac=5e-4), **kwargs)  # type: ignore[arg-type]
    with loopback_cluster(2) as cluster, open_runner(cluster.address) as runner:
        victim = cluster.workers[0]

        def kill_once(done: int, total: int) -> None:
            if victim.poll() is None:
                victim.kill()

        remote = run_backtest(book, GBM(100.0, 0.3), specs, Costs(fee_frac=5e-4),
                              runner=runner, progress=kill_once, **kwargs)  # type: ignore[arg-type]  # fmt: skip
        assert victim.poll() is not None
    np.testing.assert_array_equal(
        serial.strategies[0].paths.pnl_usd, remote.strategies[0].paths.pnl_usd
    )
