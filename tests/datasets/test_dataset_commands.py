"""``cityhub dataset`` and ``cityhub organization`` on a hub's SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cityhub.cli import main


def run(tmp_path: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path)], catch_exceptions=False)


def test_a_dataset_is_created_listed_changed_and_deleted(tmp_path: Path):
    made = run(tmp_path, "organization", "create", "stadt-solingen", "--name", "Stadt Solingen")
    assert made.exit_code == 0, made.output
    created = run(
        tmp_path,
        "dataset", "create", "parkhaeuser",
        "--title", "Parkhäuser",
        "--licence", "dl-by-de/2.0",
        "--organization", "stadt-solingen",
        "--keyword", "Parken, Verkehr",
        "--theme", "TRAN",
        "--update-frequency", "5min",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    shown = json.loads(created.output)
    assert shown["licence"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert shown["keywords"] == ["Parken", "Verkehr"]
    assert shown["themes"] == ["http://publications.europa.eu/resource/authority/data-theme/TRAN"]
    assert shown["update_frequency"].endswith("/frequency/5MIN")
    assert shown["organization"] == "stadt-solingen"
    assert shown["visibility"] == "public"

    changed = run(tmp_path, "dataset", "update", "parkhaeuser", "--visibility", "restricted")
    assert json.loads(changed.output)["visibility"] == "restricted"
    listed = run(tmp_path, "dataset", "list").output
    assert "parkhaeuser" in listed
    assert "restricted" in listed
    assert "Parkhäuser" in listed
    assert json.loads(run(tmp_path, "dataset", "show", "1").output)["slug"] == "parkhaeuser"

    assert run(tmp_path, "dataset", "delete", "parkhaeuser").exit_code == 0
    assert "no datasets" in run(tmp_path, "dataset", "list").output


def test_bad_input_is_a_clear_error(tmp_path: Path):
    bad = run(tmp_path, "dataset", "create", "Park Häuser", "--title", "t", "--licence", "cc0")
    assert bad.exit_code == 1
    assert "not a valid slug" in bad.output
    assert "unknown licence 'cc0'" in bad.output
    unknown = run(tmp_path, "token", "create", "--role", "reader", "--dataset", "nirgends")
    assert unknown.exit_code == 1
    assert "no dataset 'nirgends'" in unknown.output
    assert run(tmp_path, "dataset", "show", "nirgends").exit_code == 1
    nothing = run(tmp_path, "dataset", "update", "x")
    assert nothing.exit_code == 2


def test_a_dataset_holding_things_is_deleted_only_with_its_content(tmp_path: Path):
    from cityhub.sensorthings.model import BY_NAME
    from cityhub.sensorthings.writes import create
    from cityhub.settings import load_settings
    from cityhub.store.database import Store

    run(tmp_path, "dataset", "create", "pegel", "--title", "Pegel", "--licence", "cc-zero")
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    thing = {"name": "Pegel", "description": "d", "properties": {"dataset": "pegel"}}
    store.write_blocking(lambda c: create(c, BY_NAME["Thing"], thing))
    store.close()
    refused = run(tmp_path, "dataset", "delete", "pegel")
    assert refused.exit_code == 1
    assert "holds 1 Things" in refused.output
    assert run(tmp_path, "dataset", "delete", "pegel", "--with-content").exit_code == 0
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    things = store.read_blocking(
        lambda c: c.exec_driver_sql("SELECT count(*) FROM things").scalar()
    )
    store.close()
    assert things == 0


def test_a_token_can_be_bound_to_a_dataset(tmp_path: Path):
    run(tmp_path, "dataset", "create", "intern", "--title", "I", "--licence", "cc-zero")
    token = run(tmp_path, "token", "create", "--role", "reader", "--dataset", "intern")
    assert token.exit_code == 0
    assert token.output.startswith("chub_")
    from cityhub.auth import list_tokens
    from cityhub.settings import load_settings
    from cityhub.store.database import Store

    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    tokens = store.read_blocking(list_tokens)
    store.close()
    assert [t["dataset_id"] for t in tokens] == [1]
