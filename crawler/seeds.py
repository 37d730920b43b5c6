"""Seed files: one TOML file per site in ``seeds/``, validated as a whole (every bad entry reported at once)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from archive.schedule import PolicyBook, RecrawlPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KNOWN_KEYS = {"name", "domains", "feeds", "sitemaps", "start_urls", "allow", "deny", "recrawl", "follow_deny"}
URL_LISTS = ("feeds", "sitemaps", "start_urls")


class SeedError(ValueError):
    """Invalid seeds; ``problems`` lists every one as ``file: key: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid seeds:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Seed:
    name: str
    domains: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    allow: tuple[re.Pattern, ...] = ()  # article URL patterns (any match makes a URL an article candidate)
    deny: tuple[re.Pattern, ...] = ()  # URLs that are never articles (still followed by the site spider)
    follow_deny: tuple[re.Pattern, ...] = ()  # URLs never fetched at all
    recrawl: RecrawlPolicy = field(default_factory=RecrawlPolicy)
    path: str = ""

    def owns(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def is_article_url(self, url: str) -> bool | None:
        """True/False when the seed's patterns decide, ``None`` when they don't say."""
        if any(p.search(url) for p in self.deny):
            return False
        if self.allow:
            return any(p.search(url) for p in self.allow)
        return None

    def may_follow(self, url: str) -> bool:
        return self.owns(url) and not any(p.search(url) for p in self.follow_deny)

    @classmethod
    def for_url(cls, url: str) -> Seed:
        """An ad-hoc seed for a URL given on the command line (its host is the site)."""
        host = (urlsplit(url).hostname or "").lower()
        return cls(name=host, domains=(host,))


def _check_url(value, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str):
        problems.append(f"{where}: expected a URL string, got {type(value).__name__}")
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{where}: not an http(s) URL: {value!r}")
        return None
    return value


def _patterns(data: dict, key: str, where: str, problems: list[str]) -> tuple[re.Pattern, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        problems.append(f"{where}: {key}: expected a list of regular expressions")
        return ()
    out = []
    for i, pattern in enumerate(raw):
        try:
            out.append(re.compile(pattern))
        except (re.error, TypeError) as exc:
            problems.append(f"{where}: {key}[{i}]: bad regular expression {pattern!r}: {exc}")
    return tuple(out)


def parse_seed(data: dict, path: str, problems: list[str]) -> Seed | None:
    before = len(problems)
    for key in sorted(set(data) - KNOWN_KEYS):
        problems.append(f"{path}: {key}: unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{path}: name: required, a non-empty string")
    domains = data.get("domains")
    if not isinstance(domains, list) or not domains or not all(isinstance(d, str) and d for d in domains):
        problems.append(f"{path}: domains: required, a non-empty list of host names")
        domains = []
    lists: dict[str, tuple[str, ...]] = {}
    for key in URL_LISTS:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            problems.append(f"{path}: {key}: expected a list of URLs")
            raw = []
        lists[key] = tuple(u for i, v in enumerate(raw) if (u := _check_url(v, f"{path}: {key}[{i}]", problems)))
    if not any(lists.values()):
        problems.append(f"{path}: needs at least one of feeds, sitemaps or start_urls")
    allow = _patterns(data, "allow", path, problems)
    deny = _patterns(data, "deny", path, problems)
    follow_deny = _patterns(data, "follow_deny", path, problems)
    try:
        recrawl = RecrawlPolicy.from_mapping(data.get("recrawl"))
    except (ValueError, TypeError) as exc:
        problems.append(f"{path}: recrawl: {exc}")
        recrawl = RecrawlPolicy()
    if len(problems) > before:
        return None
    seed = Seed(
        name=name.strip(),
        domains=tuple(d.lower() for d in domains),
        allow=allow,
        deny=deny,
        follow_deny=follow_deny,
        recrawl=recrawl,
        path=path,
        **lists,
    )
    for key in URL_LISTS:
        for url in getattr(seed, key):
            if not seed.owns(url):
                problems.append(f"{path}: {key}: {url} is outside the site's domains {list(seed.domains)}")
    return seed


def load_seeds(directory: str | Path) -> list[Seed]:
    """Read every ``*.toml`` in ``directory``; raise :class:`SeedError` listing every problem found."""
    folder = Path(directory)
    if not folder.is_dir():
        raise SeedError([f"{folder}: seeds folder not found"])
    problems: list[str] = []
    seeds: list[Seed] = []
    names: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid TOML: {exc}")
            continue
        seed = parse_seed(data, str(path), problems)
        if seed is None:
            continue
        if seed.name in names:
            problems.append(f"{path}: name: {seed.name!r} already used by {names[seed.name]}")
            continue
        names[seed.name] = str(path)
        seeds.append(seed)
    if problems:
        raise SeedError(problems)
    return seeds


def policy_book(seeds: list[Seed]) -> PolicyBook:
    return PolicyBook(sites={s.name: s.recrawl for s in seeds})
