"""The QR code tile: a link to the matching portal page, drawn by segno as inline SVG."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import segno

from cityhub.screens.context import TileContext, tile_data


def target(url: str, base_url: str) -> str:
    """``url`` as given if absolute, else a path of this hub under its public URL."""
    return url if not url.startswith("/") else base_url.rstrip("/") + url


@lru_cache(maxsize=256)
def svg(text: str) -> str:
    """The QR code of ``text`` (error correction M: readable with a scratch or a glare)."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(scale=8, border=2, dark="#000", light="#fff", omitsize=True)


def qr(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    link = target(options["url"], context.base_url)
    return tile_data(options, None, None, url=link, label=options["label"], svg=svg(link))
