"""``cityhub lorawan``, ``cityhub device`` and ``cityhub deadletter``: integrations, the
device registry and dead letters from the command line, over the same functions as the
admin API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from cityhub.cli import _hub, _settings, hub_options
from cityhub.digits import is_digits
from cityhub.errors import ApiError
from cityhub.lorawan import deadletters, registry
from cityhub.lorawan.ingest import LorawanIngest
from cityhub.lorawan.managed import effective_integrations
from cityhub.store.database import Store

T = TypeVar("T")


def _show(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _run(work: Callable[[], T]) -> T:
    """Run a store call; an error a client caused becomes the command's message."""
    try:
        return work()
    except ApiError as exc:
        raise click.ClickException(exc.message) from None


def _write(store: Store, fn: Callable[[Any], T]) -> T:
    return _run(lambda: store.write_blocking(fn))


def _read(store: Store, fn: Callable[[Any], T]) -> T:
    return _run(lambda: store.read_blocking(fn))


# --- cityhub lorawan ----------------------------------------------------------------------


@click.group()
def lorawan() -> None:
    """LoRaWAN network server integrations ([[lorawan]] in cityhub.toml)."""


@lorawan.command("list")
@hub_options
def lorawan_list(config_file: Path | None, **flags: Any) -> None:
    """List the configured integrations: network, MQTT broker and topics, webhook, and
    whether each comes from cityhub.toml or the admin API."""
    settings = _settings(config_file, **flags)
    with _hub(config_file, flags) as store:
        configured = _read(store, lambda c: effective_integrations(c, settings))
    if not configured:
        click.echo(
            "No LoRaWAN integrations; add a [[lorawan]] table to cityhub.toml "
            "or create one through the admin API."
        )
        return
    for item in configured:
        entry = item.integration.describe()
        origin = "" if item.source == "file" else "  [admin API]"
        click.echo(f"{entry['name']}  ({entry['network']}){origin}")
        if entry["mqtt"]:
            click.echo(f"  mqtt:     {entry['broker']}  {' '.join(entry['topics'])}")  # type: ignore[arg-type]
        if entry["webhook"]:
            click.echo(f"  webhook:  POST {entry['webhook']}")
        provisioning = "on" if entry["auto_provision"] else "off"
        click.echo(f"  dataset:  {entry['dataset'] or '-'}  auto-provisioning: {provisioning}")


# --- cityhub device -----------------------------------------------------------------------


@click.group()
def device() -> None:
    """The LoRaWAN device registry: which Thing a device feeds and how it is decoded."""


@device.command("add")
@hub_options
@click.argument("dev_eui")
@click.option("--name", help="Name of the device and its Thing (default: the DevEUI).")
@click.option("--decoder", help="Payload decoder: see 'cityhub decoder list', or a .js codec.")
@click.option("--integration", help="The [[lorawan]] entry the device belongs to.")
@click.option("--thing", type=int, help="Feed this existing Thing instead of creating one.")
@click.option("--dataset", metavar="SLUG", help="Dataset of the Thing created for the device.")
@click.option(
    "--location", metavar="LON,LAT", help="Where the device is: longitude,latitude (WGS 84)."
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME[=DATASTREAM]",
    help="A decoded field to keep (repeat); =ID maps it to an existing Datastream. "
    "Default: every field the decoder declares.",
)
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="NAME=LOW:HIGH",
    help="Declared range of a field's values (either side may be empty); values outside "
    "it become dead letters.",
)
def device_add(
    dev_eui: str,
    fields: tuple[str, ...],
    ranges: tuple[str, ...],
    location: str | None,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    **options: Any,
) -> None:
    """Register the device DEV_EUI, with a Thing and a Datastream per field."""
    arguments = {k: v for k, v in options.items() if v is not None}
    arguments["dev_eui"] = dev_eui
    if location is not None:
        arguments["location"] = _point(location)
    specs = _field_specs(fields, ranges)
    if specs is not None:
        arguments["fields"] = specs
    with _hub(config_file, {"data_dir": data_dir, "database_url": database_url}) as store:

        def work(connection: Any) -> dict[str, Any]:
            registry.create_device(connection, **arguments)
            return registry.find_device(connection, dev_eui)

        created = _write(store, work)
    click.echo(f"Registered {created['dev_eui']} as Thing({created['thing_id']}):")
    for name, stream_id in created["mapping"].items():
        click.echo(f"  {name} -> Datastream({stream_id})")


def _point(text: str) -> dict[str, Any]:
    try:
        longitude, latitude = (float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter("give longitude,latitude, e.g. 7.0845,51.1714") from None
    return {"type": "Point", "coordinates": [longitude, latitude]}


def _field_specs(fields: tuple[str, ...], ranges: tuple[str, ...]) -> list[Any] | None:
    bounds = {}
    for item in ranges:
        name, _, span = item.partition("=")
        low, colon, high = span.partition(":")
        try:
            bounds[name] = (float(low) if low else None, float(high) if high else None)
        except ValueError:
            colon = ""
        if not name or not colon:
            raise click.BadParameter(f"{item!r}: give NAME=LOW:HIGH, e.g. temperature=-40:85")
    if not fields and not bounds:
        return None
    if not fields:
        raise click.UsageError("--range needs the fields named with --field")
    specs = []
    for item in fields:
        name, _, target = item.partition("=")
        if target and not is_digits(target):
            raise click.BadParameter(f"{item!r}: give NAME or NAME=DATASTREAM_ID")
        low, high = bounds.get(name, (None, None))
        stream = int(target) if target else None
        specs.append(registry.FieldSpec(name, low=low, high=high, datastream=stream))
    return specs


@device.command("list")
@hub_options
def device_list(config_file: Path | None, **flags: Any) -> None:
    """List the registered devices."""
    with _hub(config_file, flags) as store:
        devices = _read(store, registry.list_devices)
    if not devices:
        click.echo("No devices registered; add one with 'cityhub device add DEV_EUI'.")
    for found in devices:
        decoder = found["decoder"] or "(network decoded)"
        click.echo(
            f"{found['dev_eui']}  {found['name']}  decoder {decoder}  Thing({found['thing_id']})"
        )


@device.command("show")
@hub_options
@click.argument("dev_eui")
def device_show(dev_eui: str, config_file: Path | None, **flags: Any) -> None:
    """Show one device as JSON."""
    with _hub(config_file, flags) as store:
        _show(_read(store, lambda c: registry.find_device(c, dev_eui)))


@device.command("remove")
@hub_options
@click.argument("dev_eui")
@click.option("--with-thing", is_flag=True, help="Delete its Thing and Observations too.")
def device_remove(dev_eui: str, with_thing: bool, config_file: Path | None, **flags: Any) -> None:
    """Unregister the device DEV_EUI (its Thing stays unless --with-thing)."""
    with _hub(config_file, flags) as store:
        _write(store, lambda c: registry.delete_device(c, dev_eui, with_thing=with_thing))
    click.echo(f"Removed {registry.normalized_eui(dev_eui)}.")


# --- cityhub deadletter -------------------------------------------------------------------


@click.group()
def deadletter() -> None:
    """LoRaWAN messages that could not be stored: inspect, retry, drop."""


@deadletter.command("list")
@hub_options
@click.option("--integration", help="Only this integration's.")
@click.option("--limit", type=int, default=100, show_default=True)
def deadletter_list(
    integration: str | None, limit: int, config_file: Path | None, **flags: Any
) -> None:
    """List dead letters, newest first."""
    with _hub(config_file, flags) as store:
        letters = _read(store, lambda c: deadletters.list_letters(c, integration, limit))
    if not letters:
        click.echo("No dead letters.")
    for letter in letters:
        device_eui = letter["dev_eui"] or "-"
        click.echo(
            f"{letter['id']:>6}  {letter['received_at']}  {letter['integration']}  "
            f"{device_eui}  x{letter['attempts']}  {letter['reason']}"
        )


@deadletter.command("show")
@hub_options
@click.argument("letter_id", type=int)
def deadletter_show(letter_id: int, config_file: Path | None, **flags: Any) -> None:
    """Show one dead letter with its payload as JSON."""
    with _hub(config_file, flags) as store:
        _show(_read(store, lambda c: deadletters.find_letter(c, letter_id)))


@deadletter.command("retry")
@hub_options
@click.argument("letter_ids", type=int, nargs=-1)
@click.option("--all", "every", is_flag=True, help="Retry every dead letter.")
@click.option("--integration", help="With --all: only this integration's.")
def deadletter_retry(
    letter_ids: tuple[int, ...],
    every: bool,
    integration: str | None,
    config_file: Path | None,
    **flags: Any,
) -> None:
    """Process dead letters again (after fixing the decoder or the registry)."""
    if not letter_ids and not every:
        raise click.UsageError("name dead letters by id, or give --all")
    with _hub(config_file, flags) as store:
        ids = list(letter_ids) or _read(store, lambda c: deadletters.letter_ids(c, integration))
        configured = _read(store, lambda c: effective_integrations(c, store.settings))
        core = LorawanIngest(store, [entry.integration for entry in configured])
        outcomes = _write(store, core.retry(ids)) if ids else []
    for letter_id, outcome in zip(ids, outcomes, strict=True):
        detail = f": {outcome.detail}" if outcome.detail else ""
        click.echo(f"{letter_id}: {outcome.status}{detail}")
    if any(outcome.status == "dead" for outcome in outcomes):
        raise SystemExit(1)


@deadletter.command("drop")
@hub_options
@click.argument("letter_ids", type=int, nargs=-1, required=True)
def deadletter_drop(letter_ids: tuple[int, ...], config_file: Path | None, **flags: Any) -> None:
    """Delete dead letters for good."""
    with _hub(config_file, flags) as store:
        for letter_id in letter_ids:
            _write(store, lambda c, i=letter_id: deadletters.drop(c, i))
    click.echo(f"Dropped {len(letter_ids)} dead letter(s).")
