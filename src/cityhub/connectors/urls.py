"""URLs with a query, as ``RunContext.get`` wants them: the address and its parameters apart.

``httpx.URL(url, params=None)`` drops the query of ``url``; a download link such as
``…/Ladesaeulenregister.csv?__blob=publicationFile`` or a SensorThings ``@iot.nextLink``
would lose it. Passing the parameters separately keeps them.
"""

from __future__ import annotations

import httpx


def split_query(url: str) -> tuple[str, dict[str, str] | None]:
    """``url`` without its query, and the query's parameters (``None`` if it has none)."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url, None
    return str(parsed.copy_with(query=None)), dict(parsed.params)
