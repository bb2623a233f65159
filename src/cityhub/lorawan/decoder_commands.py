"""``cityhub decoder``: list the built-in payload decoders and try one on a payload."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cityhub.lorawan.decoders import Decoder


@click.group()
def decoder() -> None:
    """LoRaWAN payload decoders."""


@decoder.command("list")
def decoder_list() -> None:
    """List the built-in decoders: name and devices."""
    from cityhub.lorawan.decoders import builtin_decoders

    decoders = builtin_decoders()
    width = max(len(name) for name in decoders)
    for name, found in decoders.items():
        click.echo(f"{name:<{width}}  {found.description}")


@decoder.command("test")
@click.argument("name", required=False)
@click.argument("payload", metavar="HEX", required=False)
@click.option("--port", type=click.IntRange(0, 255), required=True, help="The uplink's FPort.")
@click.option(
    "--codec",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A JavaScript codec file (TTN format) to test instead of a built-in decoder.",
)
@click.pass_context
def decoder_test(
    context: click.Context, name: str | None, payload: str | None, port: int, codec: Path | None
) -> None:
    """Decode the payload HEX with decoder NAME (or --codec FILE.js) and print the result
    as JSON: data, warnings, errors. Exits with 1 when there are errors."""
    if codec is not None and payload is None:
        name, payload = None, name
    if payload is None:
        raise click.UsageError("give a decoder NAME and the payload HEX, or --codec FILE.js HEX")
    if codec is not None and name is not None:
        raise click.UsageError("give either a decoder NAME or --codec FILE.js, not both")
    chosen = _codec(codec) if codec is not None else _decoder(name or "")
    result = chosen.decode(port, _payload(payload))
    click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    if result.errors:
        context.exit(1)


def _decoder(name: str) -> Decoder:
    from cityhub.lorawan.decoders import UnknownDecoder, get_decoder

    try:
        return get_decoder(name)
    except UnknownDecoder as exc:
        raise click.ClickException(f"{exc} See 'cityhub decoder list'.") from None


def _codec(path: Path) -> Decoder:
    from cityhub.lorawan.decoders import JavaScriptCodec

    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the codec {path}: {exc}") from None
    return JavaScriptCodec(path.stem, source)


def _payload(text: str) -> bytes:
    """Hex digits, optionally with a 0x prefix and spaces or colons between bytes."""
    digits = text.removeprefix("0x").removeprefix("0X").replace(" ", "").replace(":", "")
    if len(digits) % 2 or any(c not in string.hexdigits for c in digits):
        raise click.BadParameter(
            f"{text!r} is not hexadecimal bytes, e.g. 0100E20229", param_hint="HEX"
        )
    return bytes.fromhex(digits)
