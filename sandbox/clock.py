"""The sandbox's clock: real time, moved forward by time travel, and never backwards.

Every part of the sandbox reads it (the bot's `Deps.clock`, the fake Slack's message
timestamps), so after "travel to Monday 10:00" a survey opened by the jobs is open for the
answer you give a second later, and the message shows Monday's time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class TravelClock:
    """`now()` is the real time plus how far the sandbox has travelled."""

    def __init__(self) -> None:
        self._ahead = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._ahead

    def now_ns(self) -> int:
        return time.time_ns() + int(self._ahead.total_seconds() * 1_000_000_000)

    def travel_to(self, moment: datetime) -> datetime:
        """Move to `moment` (aware); refused when it is in the sandbox's past, since what the
        bot has already done (posts, closed weeks) cannot be undone."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        now = self.now()
        if moment < now - timedelta(seconds=1):
            raise ValueError(
                f"That is in the sandbox's past (it is now {now:%a %d %b %Y %H:%M} UTC): "
                "time only moves forward."
            )
        self._ahead += max(moment - now, timedelta(0))
        return self.now()
