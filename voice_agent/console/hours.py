"""Opening hours of the staff desk: is it open now, and when does that next change?"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voice_agent.config import HandoffSettings


class Hours:
    def __init__(self, settings: HandoffSettings) -> None:
        try:
            self.zone: dt.tzinfo = ZoneInfo(settings.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = dt.UTC
        self.days = frozenset(settings.opening_days)
        self.opens = _clock_time(settings.opening_time)
        self.closes = _clock_time(settings.closing_time)

    def local(self, epoch: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, self.zone)

    def is_open(self, epoch: float) -> bool:
        t = self.local(epoch)
        return t.weekday() in self.days and self.opens <= t.time() < self.closes

    def seconds_until_change(self, epoch: float) -> float:
        """Seconds until the desk next opens or closes (at most a week; at least 1 s)."""
        now = self.local(epoch)
        state = self.is_open(epoch)
        for day in range(8):
            date = (now + dt.timedelta(days=day)).date()
            for at in (self.opens, self.closes):
                edge = dt.datetime.combine(date, at, self.zone).timestamp()
                if edge > epoch and self.is_open(edge) != state:
                    return max(1.0, edge - epoch)
        return 7 * 86_400.0


def _clock_time(text: str) -> dt.time:
    if text.strip() == "24:00":
        return dt.time.max  # open until midnight
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"opening hours are HH:MM, not {text!r}") from exc
