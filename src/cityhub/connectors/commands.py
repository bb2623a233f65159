"""``cityhub connector list|run|status`` and ``cityhub worker``: connectors from the command
line, over the same service the server and the admin API use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import click

from cityhub.cli import _hub, _settings, hub_options
from cityhub.connectors.base import ConnectorError, RunSummary
from cityhub.connectors.managed import effective_connectors
from cityhub.connectors.service import POLL_SECONDS, ConnectorBusy, ConnectorService


@click.group()
def connector() -> None:
    """Connectors: harvesters of external sources, configured in cityhub.toml."""


@connector.command("list")
@hub_options
def connector_list(config_file: Path | None, **flags: Any) -> None:
    """List the configured connectors: type, dataset, schedule, where configured, problems."""
    settings = _settings(config_file, **flags)
    with _hub(config_file, flags) as store:
        states = asyncio.run(_status(ConnectorService(store, settings)))
    if not states:
        click.echo(
            "No connectors configured; add [connectors.<name>] tables to cityhub.toml "
            "or create them through the admin API."
        )
        return
    for name, state in states.items():
        schedule = state["schedule"] or "not scheduled"
        if not state["enabled"]:
            schedule = "disabled"
        click.echo(
            f"{name:<20} {state['type']:<18} dataset {state['dataset']:<20} {schedule:<16} "
            f"({'cityhub.toml' if state['source'] == 'file' else 'admin API'})"
        )
        if state["problem"]:
            click.echo(f"    problem: {state['problem']}")


@connector.command("status")
@hub_options
def connector_status(config_file: Path | None, **flags: Any) -> None:
    """Show each connector's last run, its last success and when it is next due."""
    settings = _settings(config_file, **flags)
    with _hub(config_file, flags) as store:
        states = asyncio.run(_status(ConnectorService(store, settings)))
    for name, state in states.items():
        last = state["last_run"]
        if last is None:
            click.echo(f"{name}: never run")
        else:
            summary = f" — {_summary_line(last['summary'])}" if last["summary"] else ""
            click.echo(f"{name}: last run {last['started_at']} {last['status']}{summary}")
            if last["error"]:
                click.echo(f"    error: {last['error']}")
        if state["last_success"] and last and last["status"] != "ok":
            click.echo(f"    last success: {state['last_success']['started_at']}")
        if state["next_due"]:
            click.echo(f"    next due: {state['next_due']}")
        if state["running_in"]:
            click.echo(f"    running in: {state['running_in']}")


@connector.command("run")
@hub_options
@click.argument("name")
def connector_run(name: str, config_file: Path | None, **flags: Any) -> None:
    """Run connector NAME once, now, and show what changed."""
    settings = _settings(config_file, **flags)
    with _hub(config_file, flags) as store:
        service = ConnectorService(store, settings)
        try:
            outcome = asyncio.run(_run(service, name))
        except (ConnectorError, ConnectorBusy) as exc:
            raise click.ClickException(str(exc)) from None
    if outcome.status != "ok":
        raise click.ClickException(f"run {outcome.run_id} of {name} failed: {outcome.error}")
    assert outcome.summary is not None
    click.echo(f"{name}: {outcome.summary.describe()}")


@click.command()
@hub_options
@click.option(
    "--poll",
    type=float,
    default=POLL_SECONDS,
    show_default=True,
    help="Seconds between looks for due connectors.",
)
def worker(poll: float, config_file: Path | None, **flags: Any) -> None:
    """Run due connectors until interrupted, sharing them with other workers through leases."""
    settings = _settings(config_file, **flags)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with _hub(config_file, flags) as store:
        service = ConnectorService(store, settings)
        configs = store.read_blocking(lambda c: effective_connectors(c, settings))
        scheduled = [name for name, entry in configs.items() if entry.config.scheduled]
        # Connectors created through the admin API later are picked up at the next look.
        names = ", ".join(scheduled) or "no scheduled connectors yet"
        click.echo(f"worker {service.holder}: {names} (Ctrl+C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(service, poll))
    click.echo("worker stopped")


async def _status(service: ConnectorService) -> dict[str, dict[str, Any]]:
    try:
        return await service.status()
    finally:
        await service.aclose()


async def _run(service: ConnectorService, name: str) -> Any:
    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        click.echo(f"[{step}] {message}", err=True)

    try:
        return await service.run_now(name, progress)
    finally:
        await service.aclose()


async def _serve(service: ConnectorService, poll: float) -> None:
    try:
        await service.serve_forever(poll)
    finally:
        await service.aclose()


def _summary_line(summary: dict[str, Any]) -> str:
    return RunSummary(**summary).describe()
