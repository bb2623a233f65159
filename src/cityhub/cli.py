"""The ``cityhub`` command: a thin layer over the Python API.

Every command works on the hub named by ``--data-dir``/``--database`` (or ``CITYHUB_DATA_DIR``
/ ``CITYHUB_DATABASE_URL``), whether or not a server is running on it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cityhub import __version__
from cityhub.lorawan.decoder_commands import decoder
from cityhub.settings import Settings, SettingsError, describe_settings, load_settings
from cityhub.store.database import Store
from cityhub.store.dialects import StoreSetupError


def hub_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that name the hub a command works on."""
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Data folder (default ./cityhub-data; env CITYHUB_DATA_DIR).",
        ),
        click.option(
            "--database",
            "database_url",
            metavar="URL",
            help="Database URL, e.g. postgresql://user@host/db (env CITYHUB_DATABASE_URL).",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="Settings file (default: cityhub.toml in the data dir).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(config_file: Path | None = None, **flags: Any) -> Settings:
    try:
        return load_settings(flags, config_file=config_file)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _open_store(settings: Settings) -> Store:
    """A store with its schema up to date, or a message that says what to do."""
    try:
        store = Store(settings)
        store.migrate()
    except StoreSetupError as exc:
        raise click.ClickException(str(exc)) from None
    return store


@contextmanager
def _hub(config_file: Path | None, flags: dict[str, Any]) -> Iterator[Store]:
    """The store of the hub a management command names, closed when the command is done."""
    store = _open_store(_settings(config_file, **flags))
    try:
        yield store
    finally:
        store.close()


@click.group()
@click.version_option(__version__, prog_name="cityhub")
def main() -> None:
    """cityhub – the Open Smart City Hub."""


@main.command()
@hub_options
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000; 0 picks a free one).")
@click.option("--demo", is_flag=True, help="Load the Solingen demo dataset (once) first.")
@click.option("--mqtt-port", type=int, help="Port of the embedded MQTT broker (default 1883).")
@click.option(
    "--mqtt-url",
    metavar="URL",
    help="External MQTT broker instead, e.g. mqtt://user:pass@host:1883 (mqtts:// for TLS).",
)
@click.option("--no-mqtt", is_flag=True, help="Run without MQTT.")
def serve(demo: bool, no_mqtt: bool, config_file: Path | None, **flags: Any) -> None:
    """Run the hub: HTTP API on the embedded database or PostgreSQL, and MQTT."""
    import uvicorn

    from cityhub.app import create_app

    if no_mqtt:
        flags["mqtt_enabled"] = False
    settings = _settings(config_file, **flags)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter helps nobody
    for chatty in ("amqtt", "transitions"):  # the embedded broker's per-connection lines
        logging.getLogger(chatty).setLevel(logging.WARNING)
    store = _open_store(settings)
    try:
        if demo:
            _load_demo(store)
    finally:
        store.close()
    if demo:
        from cityhub.demo import with_demo_settings

        settings = with_demo_settings(settings)
    listener = _bind(settings.host, settings.port)
    port = listener.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = (settings.base_url or f"http://{host}:{port}").rstrip("/")
    click.echo(f"cityhub {__version__} on {store.description}")
    click.echo(f"  Portal:            {base}/")
    click.echo(f"  SensorThings API:  {base}/v1.1")
    click.echo(f"  API docs:          {base}/api/docs")
    click.echo(f"  MQTT:              {_mqtt_line(settings)}")
    if settings.port == 0:  # links in MQTT notifications name the port really in use
        settings = settings.model_copy(update={"port": port})
    app = create_app(settings, migrate=False)
    # Screens hold event streams open; a stop waits for them at most a few seconds.
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        proxy_headers=True,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _mqtt_line(settings: Settings) -> str:
    """Where MQTT clients connect, or why they cannot."""
    from cityhub.mqtt.broker import port_in_use, port_in_use_message
    from cityhub.mqtt.client import BrokerUrlError, parse_broker_url

    if not settings.mqtt_enabled:
        return "off"
    if settings.mqtt_url:
        try:
            return f"{parse_broker_url(settings.mqtt_url).public} (external broker)"
        except BrokerUrlError as exc:
            raise click.ClickException(str(exc)) from None
    if port_in_use(settings.host, settings.mqtt_port):
        return "not started. " + port_in_use_message(settings.host, settings.mqtt_port)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"mqtt://{host}:{settings.mqtt_port} (embedded broker)"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror}. Choose another --port "
            "(or --port 0 for a free one)."
        ) from None
    listener.listen(2048)
    return listener


def _load_demo(store: Store) -> None:
    from cityhub.demo import load_demo

    summary = load_demo(store)
    if summary.things:
        click.echo(
            f"Demo data loaded: {summary.things} Things, {summary.observations} Observations."
        )
    else:
        click.echo("Demo data already present; nothing added.")
    if summary.timetable:
        from cityhub.demo_transit import GRAF_WILHELM_PLATZ

        click.echo(f"Demo timetable loaded: try /departures?stop={GRAF_WILHELM_PLATZ}")
    from cityhub.screens.demo import DEMO_SLUG

    click.echo(f"Demo information screen: /screens/{DEMO_SLUG}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@hub_options
def db_upgrade(config_file: Path | None, **flags: Any) -> None:
    """Apply the migrations the database lacks."""
    from cityhub.store.migrate import current_revision

    with _hub(config_file, flags) as store:
        click.echo(f"{store.description} is at revision {current_revision(store)}.")


@db.command("status")
@hub_options
def db_status(config_file: Path | None, **flags: Any) -> None:
    """Show the schema revision of the database and the newest one."""
    from cityhub.store.migrate import current_revision, head_revision

    store = Store(_settings(config_file, **flags))
    try:
        store.check_connection()
        current, head = current_revision(store), head_revision(store)
    except StoreSetupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    state = "up to date" if current == head else "needs 'cityhub db upgrade'"
    click.echo(f"revision {current or 'none'} (newest {head}): {state}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@hub_options
@click.option(
    "--role", type=click.Choice(["admin", "publisher", "reader"]), required=True, help="Role."
)
@click.option("--name", default="", help="What the token is for (shown in listings).")
@click.option(
    "--dataset",
    metavar="SLUG",
    help="Bind the token to a dataset: it reads it even when restricted, and the Things it "
    "creates join it.",
)
def token_create(
    role: str, name: str, dataset: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Create a token and print it; it is shown only this once."""
    from cityhub.auth import create_token
    from cityhub.datasets import dataset_id_of
    from cityhub.errors import ApiError

    def create(connection: Any) -> str:
        bound = None if dataset is None else dataset_id_of(connection, dataset)
        return create_token(connection, role, name or role, bound)

    with _hub(config_file, flags) as store:
        try:
            value = store.write_blocking(create)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(value)


@token.command("list")
@hub_options
def token_list(config_file: Path | None, **flags: Any) -> None:
    """List tokens (never their values)."""
    from cityhub.auth import list_tokens

    with _hub(config_file, flags) as store:
        rows = store.read_blocking(list_tokens)
    for row in rows:
        state = f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
        click.echo(f"{row['id']:>4}  {row['role']:<10} {state:<18} {row['name']}")


@token.command("revoke")
@hub_options
@click.argument("token_id", type=int)
def token_revoke(token_id: int, config_file: Path | None, **flags: Any) -> None:
    """Revoke the token with the id shown by 'token list'."""
    from cityhub.auth import revoke_token

    with _hub(config_file, flags) as store:
        revoked = store.write_blocking(lambda c: revoke_token(c, token_id))
    if not revoked:
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"token {token_id} revoked")


@main.group()
def demo() -> None:
    """The Solingen demo dataset."""


@demo.command("load")
@hub_options
def demo_load(config_file: Path | None, **flags: Any) -> None:
    """Load the demo dataset into the hub (once)."""
    with _hub(config_file, flags) as store:
        _load_demo(store)


@main.command("config")
@hub_options
def config_show(config_file: Path | None, **flags: Any) -> None:
    """Show every setting, its effective value and what it is for."""
    settings = _settings(config_file, **flags)
    for name, default, help_text in describe_settings():
        value = getattr(settings, name)
        shown = "(set)" if name == "admin_token" and value else value
        click.echo(f"{name} = {shown!s}    [default: {default or 'none'}]")
        click.echo(f"    {help_text}")


main.add_command(decoder)


def _add_dataset_commands() -> None:
    from cityhub.datasets.commands import dataset, organization

    for group in (dataset, organization):
        main.add_command(group)


_add_dataset_commands()


def _add_connector_commands() -> None:
    from cityhub.connectors.commands import connector, worker

    main.add_command(connector)
    main.add_command(worker)


_add_connector_commands()


def _add_import_command() -> None:
    from cityhub.features.imports.commands import import_command

    main.add_command(import_command)


_add_import_command()


def _add_lorawan_commands() -> None:
    from cityhub.lorawan.commands import deadletter, device, lorawan

    for group in (lorawan, device, deadletter):
        main.add_command(group)


_add_lorawan_commands()
