"""The site mapping's `timezone`: an IANA zone name, exactly as the tz database spells it.

The name is written into outputs (the CSVs' `time_zone` column, the page, the manifest), so it
must mean the same zone, spelled the same way, on every machine that runs the screen. Whether
`ZoneInfo` opens a name depends on the machine: a case-insensitive file system (macOS, Windows)
opens `europe/berlin`, `localtime` is whatever zone the machine itself is set to, `posixrules`
is a copy of some zone, and the `posix/` and `right/` trees exist only where the system's tz
files are installed. A name is taken only when it is one of the zone names the tz database
lists (`zoneinfo.available_timezones`, its `posix/` and `right/` copies left out) and names a
place or offset rather than the machine's own setting; a name that differs from one only in
case or surrounding spaces is refused with the right spelling.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hyposcreen.errors import ConfigError

# names a tz folder may hold that are no zone of their own: the machine's zone, a copy of one,
# and the placeholder zone (`-00`) of a machine whose zone was never set
_NOT_A_SITE_ZONE = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_A_SITE_ZONE


def _spelled_as(name: str) -> str | None:
    """The zone name `name` is, written otherwise (case, surrounding spaces), if any."""
    wanted = name.strip().casefold()
    found = [zone for zone in _zone_names() if zone.casefold() == wanted]
    return found[0] if len(found) == 1 else None


def check_timezone(name: str) -> str:
    """`name` when it is a zone name of the tz database as spelled there, else a ConfigError
    (saying how to write it when only its spelling differs)."""
    if name in _zone_names():
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # listed, yet its file is unreadable
            raise ConfigError(f"Time zone '{name}' cannot be read on this machine: {exc}") from exc
        return name
    spelled = _spelled_as(name)
    if spelled is not None:
        raise ConfigError(
            f"Time zone '{name}' is written otherwise in the tz database: write '{spelled}' "
            "(the name is matched exactly, so that every machine reads the same zone)."
        )
    if name in _NOT_A_SITE_ZONE:
        raise ConfigError(
            f"Time zone '{name}' is not a site's zone (it names a machine's own setting, which "
            "differs between machines); use an IANA name such as Europe/Berlin."
        )
    raise ConfigError(f"Unknown time zone '{name}' (use an IANA name such as Europe/Berlin).")
