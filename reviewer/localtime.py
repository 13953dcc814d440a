"""Hours shown where the worker is. sealdrop keeps only UTC hours (``2026-11-24T13:00Z``);
the inbox shows them in the zone chosen with ``sealdrop-reviewer config --timezone`` (an IANA
name such as ``Europe/Moscow``), else the computer's own, else UTC. Zones with a half-hour
offset show the half hour."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_zone: tzinfo | None = None  # None: the computer's local zone


def check_zone(name: str) -> str:
    """The name if it is a zone this computer knows, else a ValueError saying what to do."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone this computer knows; give a name such as "
            "Europe/Moscow, Asia/Tbilisi or UTC"
        ) from None
    return name


def use(name: str | None) -> None:
    """Shows hours in this zone from now on (None: the computer's own)."""
    global _zone
    _zone = ZoneInfo(name) if name else None


def zone_name() -> str:
    """The zone's short name (MSK, CET, UTC…), for column heads."""
    return datetime.now(UTC).astimezone(_zone).strftime("%Z") or "UTC"


def hour_label(hour: str, short: bool = False) -> str:
    """``2026-11-24T13:00Z`` as ``2026-11-24 16h`` in the chosen zone (``11-24 16h`` short);
    anything else is returned as it is."""
    if len(hour) != 17 or hour[10] != "T" or not hour.endswith(":00Z"):
        return hour
    try:  # by hand: strptime costs more than the rest of a list row
        year, month, day = int(hour[:4]), int(hour[5:7]), int(hour[8:10])
        moment = datetime(year, month, day, int(hour[11:13]), tzinfo=UTC)
    except ValueError:
        return hour
    local = moment.astimezone(_zone)
    text = local.strftime("%m-%d %H" if short else "%Y-%m-%d %H")
    return text + (f":{local.minute:02d}" if local.minute else "h")
