"""Parsing of the date, time and position notations found in media metadata.

Every time is returned as a *time object*::

    {"value": "2022-03-05T10:42:17.25+02:00",  # RFC 3339 when the source gives an offset,
                                               # naive ISO 8601 local time when it does not,
                                               # None when the text cannot be parsed
     "raw": "2022:03:05 10:42:17",             # the text as found in the file
     "offset": "+02:00",                       # the offset applied, or None
     "note": "no offset"}                      # only when no offset was given

No timezone is ever invented: without an offset in the source the value stays naive.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_EXIF_DT = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?")
_OFFSET = re.compile(r"^\s*(?:(Z)|([+-])(\d{2}):?(\d{2}))\s*$")
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_PDF = re.compile(
    r"^\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"\s*(?:(Z)|([+\-])(\d{2})'?(?:(\d{2})'?)?)?"
)
_ISO6709 = re.compile(
    r"^\s*([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)?(?:CRS[^/]*)?/?\s*$"
)

TimeObject = dict[str, str | None]


def _fraction(digits: str | None) -> str:
    """'.25' style fraction from subsecond digits, at most 9 digits ('' when none)."""
    if not digits:
        return ""
    digits = digits.strip().lstrip(".")
    if not digits.isdigit():
        return ""
    return "." + digits[:9]


def _offset(sign: str, hours: str, minutes: str | None) -> timezone | None:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24) or int(minutes or 0) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _render(stamp: datetime, fraction: str, tz: timezone | None, raw: str) -> TimeObject:
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S") + fraction
    if tz is None:
        return {"value": text, "raw": raw, "offset": None, "note": "no offset"}
    offset = stamp.replace(tzinfo=tz).strftime("%z")
    offset = f"{offset[:3]}:{offset[3:5]}"
    return {"value": text + offset, "raw": raw, "offset": offset}


def _unparsed(raw: str, why: str) -> TimeObject:
    return {"value": None, "raw": raw, "offset": None, "note": why}


def exif_time(raw: str, offset: str | None = None, subsec: str | None = None) -> TimeObject:
    """An EXIF ``YYYY:MM:DD HH:MM:SS`` with optional OffsetTime* and SubSecTime* tags."""
    if not raw.strip(" :\x00") or raw.startswith("0000:00:00"):
        return _unparsed(raw, "blank date")
    match = _EXIF_DT.match(raw)
    if not match:
        return _unparsed(raw, "not an EXIF date")
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        stamp = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return _unparsed(raw, "impossible date")
    fraction = _fraction(subsec) or _fraction(match.group(7))
    tz = None
    if offset is not None:
        off = _OFFSET.match(offset)
        if off and off.group(1):
            tz = UTC
        elif off:
            tz = _offset(off.group(2), off.group(3), off.group(4))
    result = _render(stamp, fraction, tz, raw)
    if offset is not None and tz is None:
        result["note"] = f"no usable offset (offset tag was {offset!r})"
    return result


def iso_time(raw: str) -> TimeObject:
    """An ISO 8601 / RFC 3339 style time, as FFmpeg and QuickTime write them."""
    match = _ISO.match(raw)
    if not match:
        return _unparsed(raw, "not an ISO 8601 time")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return _unparsed(raw, "impossible date")
    tz = None
    if zone == "Z":
        tz = UTC
    elif zone:
        tz = _offset(zone[0], zone[1:3], zone[3:].lstrip(":") or None)
    fraction = _fraction(frac)
    if fraction and set(fraction[1:]) == {"0"}:
        fraction = ""
    return _render(stamp, fraction, tz, raw)


def pdf_date(raw: str) -> TimeObject:
    """A PDF date string ``D:YYYYMMDDHHmmSSOHH'mm'``; missing fields take the PDF defaults."""
    match = _PDF.match(raw)
    if not match:
        return _unparsed(raw, "not a PDF date")
    year, month, day, hour, minute, second, zulu, sign, oh, om = match.groups()
    try:
        stamp = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        return _unparsed(raw, "impossible date")
    tz = UTC if zulu else _offset(sign, oh, om) if sign else None
    result = _render(stamp, "", tz, raw)
    if second is None:
        result["note"] = "partial date; missing fields set to the PDF defaults" + (
            "; no offset" if tz is None else ""
        )
    return result


def gps_time(date: str | None, hms: tuple[float, float, float] | None) -> TimeObject | None:
    """EXIF GPSDateStamp + GPSTimeStamp, which the EXIF standard defines as UTC."""
    if hms is None:
        return None
    hours, minutes, seconds = hms
    whole = int(seconds)
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return _unparsed(f"{date or ''} {hours}:{minutes}:{seconds}".strip(), "impossible time")
    micro = round((seconds - whole) * 1_000_000)
    fraction = f".{micro:06d}".rstrip("0") if micro else ""
    clock = f"{int(hours):02d}:{int(minutes):02d}:{min(whole, 59):02d}{fraction}"
    raw = f"{date} {clock}" if date else clock
    if date:
        match = re.match(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})", date)
        if match:
            try:
                day = datetime(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return _unparsed(raw, "impossible date")
            return {"value": f"{day:%Y-%m-%d}T{clock}+00:00", "raw": raw, "offset": "+00:00"}
    return {"value": f"{clock}+00:00", "raw": raw, "offset": "+00:00", "note": "time only, no date"}


def _iso6709_angle(text: str, degree_digits: int) -> float | None:
    sign = -1.0 if text[0] == "-" else 1.0
    body = text[1:]
    whole, _, frac = body.partition(".")
    frac_value = float("0." + frac) if frac else 0.0
    if len(whole) <= degree_digits:
        value = float(whole or "0") + frac_value
    elif len(whole) == degree_digits + 2:
        value = int(whole[:degree_digits]) + (int(whole[degree_digits:]) + frac_value) / 60
    elif len(whole) == degree_digits + 4:
        degrees, minutes = int(whole[:degree_digits]), int(whole[degree_digits : degree_digits + 2])
        value = degrees + minutes / 60 + (int(whole[degree_digits + 2 :]) + frac_value) / 3600
    else:
        return None
    return sign * value


def parse_iso6709(raw: str) -> dict[str, float | str | None] | None:
    """Latitude, longitude and altitude (metres) from an ISO 6709 string like
    ``+50.5436+030.2171+120.5/``; degrees, DDMM.mm and DDMMSS.ss forms. None if invalid."""
    match = _ISO6709.match(raw)
    if not match:
        return None
    lat = _iso6709_angle(match.group(1), 2)
    lon = _iso6709_angle(match.group(2), 3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    alt = float(match.group(3)) if match.group(3) else None
    return {"latitude": round(lat, 7), "longitude": round(lon, 7), "altitude": alt, "raw": raw}
