"""When to look at an article again: checks back off as it ages without change and reset when it changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    # (while unchanged for less than, check every)
    (timedelta(hours=6), timedelta(minutes=30)),
    (timedelta(days=2), timedelta(hours=1)),
    (timedelta(days=14), timedelta(days=1)),
)
DEFAULT_FINAL_INTERVAL = timedelta(days=7)
DEFAULT_MAX_AGE = timedelta(days=90)


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"30m"``, ``"6h"``, ``"2d"``, ``"1w"``, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    raw = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        if raw[-1] in units:
            return timedelta(seconds=float(raw[:-1]) * units[raw[-1]])
        return timedelta(seconds=float(raw))
    except (ValueError, IndexError):
        raise ValueError(f"not a duration: {value!r} (use e.g. 30m, 6h, 2d, 1w)") from None


@dataclass(frozen=True)
class RecrawlPolicy:
    steps: tuple[tuple[timedelta, timedelta], ...] = DEFAULT_STEPS
    final_interval: timedelta = DEFAULT_FINAL_INTERVAL
    max_age: timedelta = DEFAULT_MAX_AGE

    @classmethod
    def from_mapping(cls, data: dict | None) -> RecrawlPolicy:
        """Build from a seeds ``[recrawl]`` table: ``steps = [["6h", "30m"], ...]``, ``final_interval``, ``max_age``."""
        if not data:
            return cls()
        steps = cls.steps
        if "steps" in data:
            steps = tuple((parse_duration(a), parse_duration(b)) for a, b in data["steps"])
        return cls(
            steps=steps,
            final_interval=parse_duration(data.get("final_interval", cls.final_interval)),
            max_age=parse_duration(data.get("max_age", cls.max_age)),
        )

    def interval(self, unchanged_for: timedelta) -> timedelta:
        for limit, every in self.steps:
            if unchanged_for < limit:
                return every
        return self.final_interval

    def next_check(self, *, now: datetime, first_seen: datetime, last_changed: datetime) -> datetime | None:
        """The time of the next check, or ``None`` once the article is older than ``max_age``."""
        if now - first_seen >= self.max_age:
            return None
        return now + self.interval(now - last_changed)


@dataclass
class PolicyBook:
    """The default policy and per-site overrides by site name."""

    default: RecrawlPolicy = field(default_factory=RecrawlPolicy)
    sites: dict[str, RecrawlPolicy] = field(default_factory=dict)

    def for_site(self, name: str | None) -> RecrawlPolicy:
        return self.sites.get(name or "", self.default)
