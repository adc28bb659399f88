"""Timestamps as the API server writes and reads them: :func:`format_time` (RFC 3339 at
second precision, as ``metav1.Time`` marshals), :func:`parse_time` (Go's
``time.Parse(time.RFC3339, ...)`` to whole seconds) and :func:`parse_time_nano`
(``time.RFC3339Nano``, for the ``last-change-trigger-time`` annotation).

Imports: the standard library only (the bottom layer of :mod:`kubesim.manifests`).
"""

from __future__ import annotations

import datetime
import functools
import re

# ----------------------------------------------------------------------------------------------
# Time


def format_time(seconds: int) -> str:
    """RFC 3339 at second precision, as ``metav1.Time`` marshals: ``"2008-01-01T01:01:01Z"``.

    ``O(1)`` (cached).

    >>> format_time(1199149261)
    '2008-01-01T01:01:01Z'
    """
    return _format_time(seconds)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=4096)
def _format_time(seconds: int) -> str:
    t = _EPOCH + datetime.timedelta(seconds=seconds)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T"
            f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z")


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


@functools.lru_cache(maxsize=4096)
def parse_time_nano(text: str) -> float:
    """Parse RFC 3339 with an optional fraction (``time.RFC3339Nano``, the format of the
    ``last-change-trigger-time`` annotation) to Unix seconds as a float. ``O(1)`` (cached).

    Raises :class:`ValueError` for anything else.

    >>> parse_time_nano("2018-01-01T00:00:00.25Z")
    1514764800.25
    """
    whole = parse_time(text)
    m = _RFC3339.fullmatch(text)
    assert m is not None
    fraction = m.group(7)
    return whole + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def parse_time(text: str) -> int:
    """Parse RFC 3339 as Go's ``time.Parse(time.RFC3339, ...)`` does, to whole Unix seconds
    (fractions are dropped, as the API server drops them). ``O(1)``.

    Raises :class:`ValueError` for anything else.

    >>> parse_time("2008-01-01T02:01:01+01:00")
    1199149261
    """
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise ValueError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": not RFC 3339')
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    zone = m.group(8)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f'parsing time "{text}": hour, minute or second out of range')
    offset = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            raise ValueError(f'parsing time "{text}": time zone offset out of range')
        offset = (zh * 3600 + zm * 60) * (1 if zone[0] == "+" else -1)
    try:
        day = datetime.date(y, mo, d)
    except ValueError:
        raise ValueError(f'parsing time "{text}": day out of range') from None
    days = day.toordinal() - _EPOCH_ORDINAL
    return days * 86400 + h * 3600 + mi * 60 + s - offset


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
