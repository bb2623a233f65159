"""How the portal writes numbers, times and durations for people, in the page language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityhub.pages import Translator


class Formats:
    """``f.number(x)``, ``f.time(t)``, ``f.date(t)``, ``f.duration(d)`` in templates."""

    def __init__(self, t: Translator, zone: ZoneInfo) -> None:
        self.t = t
        self.zone = zone
        self.german = t.language == "de"

    def number(self, value: Any) -> str:
        if isinstance(value, bool):
            return self.t("portal.yes") if value else self.t("portal.no")
        if isinstance(value, int):
            text = f"{value:,}"
        elif isinstance(value, float):
            text = f"{value:,.2f}".rstrip("0").rstrip(".")
        else:
            return "" if value is None else str(value)
        if self.german:
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return text

    def time(self, value: datetime | None, seconds: bool = False) -> str:
        if value is None:
            return ""
        local = self.local(value)
        clock = "%H:%M:%S" if seconds else "%H:%M"
        return local.strftime(("%d.%m.%Y " if self.german else "%Y-%m-%d ") + clock)

    def date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return self.local(value).strftime("%d.%m.%Y" if self.german else "%Y-%m-%d")

    def iso(self, value: datetime | None) -> str:
        return "" if value is None else self.local(value).isoformat()

    def local(self, value: datetime) -> datetime:
        """In the city's zone; an instant whose local time lies past what a datetime holds
        (the last hours of year 9999, east of UTC) stays in UTC rather than failing the page."""
        try:
            return value.astimezone(self.zone)
        except OverflowError:
            return value

    def distance(self, metres: float) -> str:
        """Metres for people: "here" inside or at a place, tens of metres, then kilometres."""
        if metres < 5:
            return self.t("portal.nearby.here")
        if metres < 1000:
            return f"{round(metres, -1):.0f} m"
        return f"{self.number(round(metres / 1000, 1))} km"

    def duration(self, value: timedelta | None) -> str:
        if value is None:
            return ""
        minutes = round(value.total_seconds() / 60)
        if minutes < 1:
            return self.t("portal.duration.seconds", n=round(value.total_seconds()))
        if minutes < 120:
            return self.t("portal.duration.minutes", n=minutes)
        hours = round(minutes / 60)
        if hours < 48:
            return self.t("portal.duration.hours", n=hours)
        return self.t("portal.duration.days", n=round(hours / 24))
