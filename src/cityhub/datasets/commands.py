"""``cityhub dataset`` and ``cityhub organization``: publication from the command line, over
the same functions as the admin API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from cityhub import datasets
from cityhub.cli import _hub, hub_options
from cityhub.datasets.vocabularies import FREQUENCIES, HVD_CATEGORIES, LICENCES, THEMES
from cityhub.errors import ApiError
from cityhub.store.database import Store

T = TypeVar("T")


def _show(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _write(store: Store, work: Callable[[Any], T]) -> T:
    """Run a write; an error a client caused becomes the command's message."""
    try:
        return store.write_blocking(work)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None


def _fields(options: dict[str, Any]) -> dict[str, Any]:
    """The dataset fields an invocation gave (unset options and empty lists left out)."""
    fields = {k: v for k, v in options.items() if v is not None and v != ()}
    for name in ("keywords", "themes"):
        if name in fields:
            fields[name] = [part.strip() for item in fields[name] for part in item.split(",")]
    return fields


def dataset_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The changeable fields of a dataset as options (create and update share them)."""
    options = [
        click.option("--title", help="Title, e.g. 'Öffentliche Toiletten'."),
        click.option("--description", help="What the dataset holds, for the catalog."),
        click.option("--organization", metavar="SLUG", help="The publishing organization."),
        click.option("--licence", help=f"One of {', '.join(LICENCES)} (or its URI)."),
        click.option("--keyword", "keywords", multiple=True, help="Keyword (repeat, or commas)."),
        click.option(
            "--theme", "themes", multiple=True, help=f"EU data theme: {', '.join(THEMES)}."
        ),
        click.option("--update-frequency", help=f"One of {', '.join(FREQUENCIES)}."),
        click.option("--contact-name", help="Contact point: a name or an office."),
        click.option("--contact-email", help="Contact point: an e-mail address."),
        click.option(
            "--visibility",
            type=click.Choice(["public", "restricted"]),
            help="restricted: visible only to admin tokens and tokens bound to the dataset.",
        ),
        click.option("--hvd-category", help=f"High-value category: {', '.join(HVD_CATEGORIES)}."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def dataset() -> None:
    """Datasets: what is published, under which licence, to whom."""


@dataset.command("create")
@hub_options
@click.argument("slug")
@dataset_options
def dataset_create(slug: str, config_file: Path | None, **options: Any) -> None:
    """Create a dataset named SLUG (public unless --visibility restricted)."""
    fields = _fields({k: v for k, v in options.items() if k not in ("data_dir", "database_url")})
    flags = {k: options[k] for k in ("data_dir", "database_url")}
    with _hub(config_file, flags) as store:
        dataset_id = _write(store, lambda c: datasets.create_dataset(c, slug=slug, **fields))
        _show(store.read_blocking(lambda c: datasets.find_dataset(c, dataset_id)))


@dataset.command("list")
@hub_options
def dataset_list(config_file: Path | None, **flags: Any) -> None:
    """List every dataset: slug, visibility, Things and collections, title."""
    with _hub(config_file, flags) as store:
        found = store.read_blocking(datasets.list_datasets)
    if not found:
        click.echo(
            "no datasets; create one with 'cityhub dataset create SLUG --title … --licence …'"
        )
    for item in found:
        content = f"{item['things']} Things, {item['collections']} collections"
        click.echo(f"{item['slug']:<24} {item['visibility']:<10} {content:<28} {item['title']}")


@dataset.command("show")
@hub_options
@click.argument("ref")
def dataset_show(ref: str, config_file: Path | None, **flags: Any) -> None:
    """Show a dataset (by slug or id) as JSON."""
    with _hub(config_file, flags) as store:
        try:
            _show(store.read_blocking(lambda c: datasets.find_dataset(c, ref)))
        except ApiError as exc:
            raise click.ClickException(exc.message) from None


@dataset.command("update")
@hub_options
@click.argument("ref")
@dataset_options
def dataset_update(ref: str, config_file: Path | None, **options: Any) -> None:
    """Change the given fields of a dataset (by slug or id)."""
    fields = _fields({k: v for k, v in options.items() if k not in ("data_dir", "database_url")})
    flags = {k: options[k] for k in ("data_dir", "database_url")}
    if not fields:
        raise click.UsageError("give at least one field to change, e.g. --visibility public")
    with _hub(config_file, flags) as store:
        _show(_write(store, lambda c: datasets.update_dataset(c, ref, **fields)))


@dataset.command("delete")
@hub_options
@click.argument("ref")
@click.option("--with-content", is_flag=True, help="Also delete its Things and collections.")
def dataset_delete(ref: str, with_content: bool, config_file: Path | None, **flags: Any) -> None:
    """Delete a dataset; one that holds data only with --with-content."""
    with _hub(config_file, flags) as store:
        _write(store, lambda c: datasets.delete_dataset(c, ref, with_content=with_content))
    click.echo(f"dataset '{ref}' deleted")


@dataset.command("move-things")
@hub_options
@click.argument("ref")
@click.argument("thing_ids", nargs=-1, type=int, required=True)
def dataset_move_things(
    ref: str, thing_ids: tuple[int, ...], config_file: Path | None, **flags: Any
) -> None:
    """Put Things (by @iot.id) into the dataset REF ('none': into no dataset, public)."""
    target = None if ref == "none" else ref
    with _hub(config_file, flags) as store:
        moved = _write(store, lambda c: datasets.move_things(c, list(thing_ids), target))
    click.echo(f"{moved} Things moved to {ref}")


@click.group()
def organization() -> None:
    """Organizations that publish datasets."""


@organization.command("create")
@hub_options
@click.argument("slug")
@click.option("--name", required=True, help="Name, e.g. 'Stadt Solingen'.")
@click.option("--url", help="Homepage.")
@click.option("--email", help="Contact e-mail.")
@click.option("--description", help="Who they are.")
def organization_create(slug: str, config_file: Path | None, **options: Any) -> None:
    """Create an organization named SLUG."""
    flags = {k: options.pop(k) for k in ("data_dir", "database_url")}
    fields = {k: v for k, v in options.items() if v is not None}
    with _hub(config_file, flags) as store:
        _write(store, lambda c: datasets.create_organization(c, slug=slug, **fields))
        _show(store.read_blocking(lambda c: datasets.find_organization(c, slug)))


@organization.command("list")
@hub_options
def organization_list(config_file: Path | None, **flags: Any) -> None:
    """List organizations."""
    with _hub(config_file, flags) as store:
        for item in store.read_blocking(datasets.list_organizations):
            click.echo(f"{item['slug']:<24} {item['name']}")
