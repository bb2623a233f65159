"""Settings: defaults < cityhub.toml < environment < flags, with messages naming the source."""

from pathlib import Path

import pytest

from cityhub.settings import Settings, SettingsError, describe_settings, load_settings


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path):
    settings = load_settings({"data_dir": tmp_path}, environ={})
    assert settings.port == 8000
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'cityhub.sqlite3').resolve()}"


def test_precedence_file_then_environment_then_flags(tmp_path: Path):
    (tmp_path / "cityhub.toml").write_text('port = 9001\nhost = "0.0.0.0"\nmax_top = 50\n')
    environ = {"CITYHUB_DATA_DIR": str(tmp_path), "CITYHUB_PORT": "9002", "CITYHUB_MAX_TOP": "70"}
    settings = load_settings({"max_top": 90}, environ=environ)
    assert settings.host == "0.0.0.0"  # from the file
    assert settings.port == 9002  # environment beats the file
    assert settings.max_top == 90  # flags beat the environment


def test_explicit_config_file(tmp_path: Path):
    config = tmp_path / "elsewhere.toml"
    config.write_text('database_url = "postgresql://hub@db/hub"\n')
    settings = load_settings({}, config_file=config, environ={})
    assert settings.database_url == "postgresql://hub@db/hub"


def test_missing_explicit_config_file_is_an_error(tmp_path: Path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({}, config_file=tmp_path / "nope.toml", environ={})


def test_invalid_value_names_setting_and_source(tmp_path: Path):
    with pytest.raises(SettingsError) as info:
        load_settings({"data_dir": tmp_path}, environ={"CITYHUB_PORT": "eighty"})
    assert "port" in str(info.value)
    assert "CITYHUB_PORT" in str(info.value)


def test_unknown_setting_in_file_is_rejected(tmp_path: Path):
    (tmp_path / "cityhub.toml").write_text("colour = 'blue'\n")
    with pytest.raises(SettingsError, match="colour"):
        load_settings({"data_dir": tmp_path}, environ={})


def test_broken_toml_is_reported(tmp_path: Path):
    (tmp_path / "cityhub.toml").write_text("port = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"data_dir": tmp_path}, environ={})


def test_admin_token_from_environment_is_secret(tmp_path: Path):
    settings = load_settings({"data_dir": tmp_path}, environ={"CITYHUB_ADMIN_TOKEN": "s3cret"})
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_every_setting_has_help_text():
    rows = describe_settings()
    assert {name for name, _, _ in rows} == set(Settings.model_fields)
    assert all(help_text for _, _, help_text in rows)


def test_list_settings_come_from_the_environment_as_json(tmp_path: Path):
    environ = {"CITYHUB_CORS_ORIGINS": '["https://app.solingen.example"]'}
    settings = load_settings({"data_dir": tmp_path}, environ=environ)
    assert settings.cors_origins == ["https://app.solingen.example"]
    assert dict((n, d) for n, d, _ in describe_settings())["cors_origins"] == "['*']"
