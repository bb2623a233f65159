"""``cityhub connector`` and ``cityhub worker`` on a hub of their own, the source served over
real HTTP from the recorded payloads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from cityhub.cli import main
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

SRC = Path(__file__).resolve().parents[2] / "src"


def _config(tmp_path: Path, fixture_server, path: str = "pegelonline/stations.json") -> Path:
    config = tmp_path / "cityhub.toml"
    config.write_text(
        f"""
[connectors.pegel]
type = "pegelonline"
url = "{fixture_server.url(path)}"
dataset = "pegel"
every = "15m"
""",
        encoding="utf-8",
    )
    return config


def run(tmp_path: Path, *args: str):
    options = ["--data-dir", str(tmp_path), "--config", str(tmp_path / "cityhub.toml")]
    return CliRunner().invoke(main, [*args, *options], catch_exceptions=False)


def test_connector_list_run_and_status(tmp_path, fixture_server):
    _config(tmp_path, fixture_server)
    listed = run(tmp_path, "connector", "list")
    assert listed.exit_code == 0, listed.output
    assert "pegel" in listed.output
    assert "pegelonline" in listed.output
    assert "every 15m" in listed.output

    first = run(tmp_path, "connector", "run", "pegel")
    assert first.exit_code == 0, first.output
    assert "[1] fetching http://127.0.0.1" in first.output
    assert "places: 3 new, 0 updated, 0 unchanged, 0 gone" in first.output
    assert "observations: 4 new, 0 known" in first.output

    second = run(tmp_path, "connector", "run", "pegel")
    assert "places: 0 new, 0 updated, 3 unchanged, 0 gone" in second.output
    assert "observations: 0 new, 4 known" in second.output

    status = run(tmp_path, "connector", "status")
    assert "pegel: last run" in status.output
    assert " ok — places: 0 new" in status.output


def test_a_failed_run_exits_1_with_its_cause(tmp_path, fixture_server):
    _config(tmp_path, fixture_server, "pegelonline/missing.json")
    failed = run(tmp_path, "connector", "run", "pegel")
    assert failed.exit_code == 1
    assert "failed" in failed.output
    assert "answered 404" in failed.output
    status = run(tmp_path, "connector", "status")
    assert "failed" in status.output
    assert "error: SourceError" in status.output


def test_unknown_connectors_and_types_are_named(tmp_path, fixture_server):
    config = _config(tmp_path, fixture_server)
    unknown = run(tmp_path, "connector", "run", "wetter")
    assert unknown.exit_code == 1
    assert "no connector 'wetter' (configured: pegel)" in unknown.output
    config.write_text('[connectors.wetter]\ntype = "dwd"\n', encoding="utf-8")
    listed = run(tmp_path, "connector", "list")
    assert "problem: unknown connector type 'dwd'" in listed.output


def test_a_worker_runs_due_connectors_until_interrupted(tmp_path, fixture_server):
    _config(tmp_path, fixture_server)
    command = [sys.executable, "-m", "cityhub", "worker", "--poll", "0.2"]
    command += ["--data-dir", str(tmp_path), "--config", str(tmp_path / "cityhub.toml")]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    try:
        runs = schema.connector_runs
        query = select(runs.c.status, runs.c.trigger).where(runs.c.status != "running")
        deadline = time.monotonic() + 30
        finished: list = []
        while time.monotonic() < deadline and not finished:
            time.sleep(0.2)
            if (tmp_path / "cityhub.sqlite3").exists():
                try:
                    finished = store.read_blocking(lambda c: list(c.execute(query)))
                except Exception:  # the worker may still be creating the schema
                    finished = []
        assert [tuple(r) for r in finished] == [("ok", "schedule")]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        store.close()
    assert "worker " in output
    assert "worker stopped" in output
