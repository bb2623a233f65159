"""The command line: management commands on a named hub, and a real server on port 0."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cityhub.cli import main


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_token_create_list_revoke(tmp_path: Path):
    created = run(
        "token", "create", "--role", "publisher", "--name", "lorawan", "--data-dir", str(tmp_path)
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert token.startswith("chub_")
    listed = run("token", "list", "--data-dir", str(tmp_path))
    assert "publisher" in listed.output
    assert "lorawan" in listed.output
    assert token not in listed.output
    token_id = listed.output.split()[0]
    assert run("token", "revoke", token_id, "--data-dir", str(tmp_path)).exit_code == 0
    assert "revoked" in run("token", "list", "--data-dir", str(tmp_path)).output
    again = run("token", "revoke", token_id, "--data-dir", str(tmp_path))
    assert again.exit_code == 1
    assert "no active token" in again.output


def test_commands_follow_environment_variables(tmp_path: Path):
    env = {"CITYHUB_DATA_DIR": str(tmp_path)}
    assert run("db", "upgrade", env=env).exit_code == 0
    assert (tmp_path / "cityhub.sqlite3").exists()
    status = run("db", "status", env=env)
    assert "up to date" in status.output


def test_db_status_before_upgrade_says_what_to_do(tmp_path: Path):
    status = run("db", "status", "--data-dir", str(tmp_path))
    assert "needs 'cityhub db upgrade'" in status.output


def test_unreachable_database_is_a_clear_error(tmp_path: Path):
    result = run("db", "upgrade", "--database", "postgresql://nobody@127.0.0.1:1/x")
    assert result.exit_code == 1
    assert "Cannot connect to the database" in result.output


def test_invalid_setting_is_a_clear_error(tmp_path: Path):
    (tmp_path / "cityhub.toml").write_text("max_top = 0\n")
    result = run("config", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "max_top" in result.output


def test_config_shows_every_setting_without_secrets(tmp_path: Path):
    result = run("config", "--data-dir", str(tmp_path), env={"CITYHUB_ADMIN_TOKEN": "s3cret"})
    assert "admin_token = (set)" in result.output
    assert "s3cret" not in result.output
    assert "default_top = 100" in result.output


def test_demo_load_twice_adds_nothing_the_second_time(tmp_path: Path):
    first = run("demo", "load", "--data-dir", str(tmp_path))
    assert re.search(r"16 Things, \d{4} Observations", first.output)
    assert "/departures?stop=sg-graf-wilhelm-platz" in first.output
    second = run("demo", "load", "--data-dir", str(tmp_path))
    assert "nothing added" in second.output
    assert "timetable" not in second.output


def test_serve_on_port_zero_prints_urls_and_answers(tmp_path: Path):
    env = {**os.environ, "CITYHUB_ADMIN_TOKEN": "serve-test"}
    command = [sys.executable, "-m", "cityhub", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    try:
        urls = {}
        deadline = time.monotonic() + 30
        while len(urls) < 3 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.match(r"\s+(Portal|SensorThings API|API docs):\s+(\S+)", line)
            if match:
                urls[match[1]] = match[2]
        assert set(urls) == {"Portal", "SensorThings API", "API docs"}, urls
        root = _get_when_ready(urls["SensorThings API"])
        assert root.status_code == 200
        assert {e["name"] for e in root.json()["value"]} >= {"Things", "Observations"}
        created = httpx.post(
            urls["SensorThings API"] + "/Things",
            json={"name": "Served", "description": "through uvicorn"},
            headers={"Authorization": "Bearer serve-test"},
        )
        assert created.status_code == 201
        assert httpx.get(urls["API docs"]).status_code == 200
        assert httpx.get(urls["Portal"]).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert process.returncode is not None


def _get_when_ready(url: str) -> httpx.Response:
    for _ in range(50):
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            time.sleep(0.1)
    pytest.fail(f"server at {url} did not answer")
