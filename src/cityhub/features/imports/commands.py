"""``cityhub import``: a GeoJSON, CSV or XLSX file (or URL) into a feature collection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cityhub.cli import _hub, hub_options
from cityhub.errors import ApiError
from cityhub.features.imports.crs import check_crs
from cityhub.features.imports.delimited import delimiter_option
from cityhub.features.imports.fetch import load_source
from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Reader
from cityhub.features.imports.run import (
    ImportResult,
    ImportTarget,
    StrictImportFailed,
    import_features,
)
from cityhub.features.imports.sources import FORMATS, open_reader

# Sources with more records than this get a progress bar (on stderr).
PROGRESS_FROM = 5000
LISTED_ROWS = 50


@click.command("import")
@hub_options
@click.argument("source", metavar="FILE|URL")
@click.option("--dataset", required=True, help="The dataset (slug or id) the collection is in.")
@click.option("--collection", required=True, help="The collection's slug; created if new.")
@click.option("--title", help="The collection's title (default: its slug).")
@click.option("--key", metavar="FIELD", help="Field identifying a feature: re-imports update it.")
@click.option("--strict", is_flag=True, help="Import nothing if any row cannot be imported.")
@click.option("--crs", metavar="EPSG:CODE", help="Coordinates' system, e.g. EPSG:25832.")
@click.option("--lon", metavar="COLUMN", help="Column with longitude (or easting).")
@click.option("--lat", metavar="COLUMN", help="Column with latitude (or northing).")
@click.option("--wkt", metavar="COLUMN", help="Column with the geometry as WKT.")
@click.option("--delimiter", help="CSV delimiter: ';', ',', '|' or 'tab' (default: detected).")
@click.option("--encoding", help="CSV encoding, e.g. windows-1252 (default: detected).")
@click.option("--sheet", metavar="NAME", help="XLSX worksheet (default: the first).")
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Default: detected.")
def import_command(
    source: str,
    dataset: str,
    collection: str,
    title: str | None,
    key: str | None,
    strict: bool,
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    format_: str | None,
    **reading: Any,
) -> None:
    """Import FILE or URL (GeoJSON, CSV, XLSX) into a feature collection."""
    options = _options(format_, reading)
    target = ImportTarget(dataset, collection, title, key, strict, source)
    try:
        loaded = load_source(source)
        reader = open_reader(loaded.data, options, loaded.name, loaded.media_type)
    except ImportSourceError as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    flags = {"data_dir": data_dir, "database_url": database_url}
    with _hub(config_file, flags) as store:
        result = _run(store, reader, target)
    _report(result)


def _options(format_: str | None, reading: dict[str, Any]) -> ImportOptions:
    if reading["wkt"] and (reading["lon"] or reading["lat"]):
        raise click.UsageError("give either --lon and --lat, or --wkt")
    try:
        if reading["crs"]:
            check_crs(reading["crs"])
        reading["delimiter"] = delimiter_option(reading["delimiter"])
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return ImportOptions(format=format_, **reading)


def _run(store: Any, reader: Reader, target: ImportTarget) -> ImportResult:
    total = reader.total or 0
    try:
        if total < PROGRESS_FROM:
            return store.write_blocking(lambda c: import_features(c, reader, target))
        stderr = click.get_text_stream("stderr")
        with click.progressbar(length=total, label="importing", file=stderr) as bar:
            return store.write_blocking(lambda c: import_features(c, reader, target, bar.update))
    except StrictImportFailed as exc:
        _list_rejected(exc.result)
        raise click.ClickException(
            f"{len(exc.result.rejected)} rows cannot be imported; --strict: nothing was imported"
        ) from None
    except (ApiError, ImportSourceError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None


def _report(result: ImportResult) -> None:
    summary = result.summary
    click.echo(f"read as {result.read_as}")
    click.echo(
        f"{result.collection}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {len(result.rejected)} rejected"
        + (f" (key: {result.key})" if result.key else "")
    )
    _list_rejected(result)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _list_rejected(result: ImportResult) -> None:
    for rejected in result.rejected[:LISTED_ROWS]:
        click.echo(f"  {rejected.describe()}", err=True)
    if len(result.rejected) > LISTED_ROWS:
        click.echo(f"  … and {len(result.rejected) - LISTED_ROWS} more", err=True)
