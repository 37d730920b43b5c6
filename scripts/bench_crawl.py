#!/usr/bin/env python3
"""Crawl pipeline benchmark: first crawl, unchanged recrawls (with and without ETags) and storage, in one run.

A local site of >= 1,000 article pages is made from the Article Extraction Benchmark pages (each page served
under several article URLs, one small text change per copy, canonical / og:url / amphtml / <base> dropped so
every copy is its own article), plus a front page and one listing page per copy, served on 127.0.0.1 by
``tests.sites.FixtureServer``. Then, into an empty SQLite archive:

1. ``scrapy crawl site -a start_url=...`` with politeness off by Scrapy's own settings. Anchor: serial
   ``trafilatura.bare_extraction(html, url=..., with_metadata=True)`` of the same article files read from disk,
   in this process. Target: crawl wall <= 0.65x anchor. CPU of the reactor process and of the extraction
   workers is sampled with psutil.
2. Ten ``scrapy crawl recrawl -a all=true`` of the unchanged site: revisits 1-4 with ETags (304s), 5 and 10 are
   unconditional (``ARCHIVE_UNCONDITIONAL_EVERY`` = 5, the default), 6-9 with the server's ETag /
   Last-Modified off (the raw-HTML-hash shortcut). Anchor: the first crawl. Targets: <= 0.10x with ETags,
   <= 0.5x without; 0 new versions.
3. Storage after the first crawl and after the ten recrawls: bytes per article of HTML blobs, texts, and each
   table (SQLite ``dbstat``), against the raw HTML and text sizes. Targets: text <= 0.5x raw, HTML <= 0.25x raw,
   an unchanged recrawl adds no more than a capture row per article.

Usage (from the project root, with the project and psutil installed: ``pip install -e '.[test]'``):

    python scripts/bench_crawl.py [--bench ../shared/bench/aeb] [--copies 12] [--repeat 2] [--workers 0]

``--repeat`` is best-of-N for the first crawl and the anchor (each first crawl into a fresh archive). On a busy
machine compare the "load-independent" line: max(reactor CPU, total CPU / cores) / anchor CPU. ``--project DIR``
and ``-s KEY=VALUE`` run another checkout's crawler (a scratch copy with a change) or extra Scrapy settings.
Results and how to read them: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil
import trafilatura

from tests.sites import FixtureServer

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------- the site

_DROP = [
    re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?\s*(?:canonical|amphtml)\b[^>]*>", re.IGNORECASE),
    re.compile(rb"<meta\b[^>]*\b(?:property|name|itemprop)\s*=\s*[\"']?\s*(?:og:url|twitter:url|url)[\"'\s>][^>]*>",
               re.IGNORECASE),
    re.compile(rb"<base\b[^>]*>", re.IGNORECASE),
]
_HREF = re.compile(rb"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_PARA = re.compile(rb"<p\b[^>]*>(.*?)</p>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(rb"<[^>]+>")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class Site:
    root: Path
    articles: list[tuple[str, Path]]  # (URL path, file)
    listings: list[str]
    html_bytes: int


def _absolute_links(html: bytes, original_url: str) -> bytes:
    """Relative <a href> made absolute on the page's original host, so they stay off this site as they were."""
    def fix(m: re.Match) -> bytes:
        href = m.group(3).decode("utf-8", "replace").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:", "http:", "https:")):
            return m.group(0)
        try:
            absolute = urljoin(original_url, href)
        except ValueError:
            return m.group(0)
        return m.group(1) + m.group(2) + absolute.encode("utf-8") + m.group(2)
    return _HREF.sub(fix, html)


def _vary(html: bytes, copy: int) -> bytes:
    """One small change per copy: a short sentence closing the page's longest paragraph."""
    best, best_len = None, -1
    for m in _PARA.finditer(html):
        n = len(_TAGS.sub(b"", m.group(1)).strip())
        if n > best_len:
            best, best_len = m, n
    note = f" Edition {copy + 1} of this report.".encode()
    if best is None:
        return html.replace(b"</body>", b"<p>" + note + b"</p></body>", 1)
    return html[: best.end(1)] + note + html[best.end(1):]


def build_site(bench: Path, root: Path, copies: int) -> Site:
    """Write ``copies`` variants of every benchmark page, a listing page per copy and a front page."""
    pages = []
    for path in sorted((bench / "html").glob("*.html")):
        truth = json.loads((bench / "truth" / f"{path.stem}.json").read_text())
        original = path.read_bytes()
        for rx in _DROP:
            original = rx.sub(b"", original)
        pages.append((path.stem, truth["url"], _absolute_links(original, truth["url"])))
    articles: list[tuple[str, Path]] = []
    listings: list[str] = []
    html_bytes = 0
    for copy in range(copies):
        links = []
        for pid, url, html in pages:
            last = [p for p in urlsplit(url).path.split("/") if p]
            slug = _SLUG.sub("-", (last[-1] if last else "story").lower().rsplit(".", 1)[0]).strip("-")[:60] or "story"
            upath = f"/news/{copy:02d}/{slug}-{pid[:8]}.html"
            body = _vary(html, copy)
            target = root / upath.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            html_bytes += len(body)
            articles.append((upath, target))
            links.append(f'<li><a href="{upath}">Story {pid[:8]} in edition {copy + 1}</a></li>')
        lpath = f"/section/{copy:02d}.html"
        (root / "section").mkdir(exist_ok=True)
        (root / lpath.lstrip("/")).write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>Edition {copy + 1}</title></head><body>"
            f"<h1>Edition {copy + 1}</h1><ul>{''.join(links)}</ul></body></html>")
        listings.append(lpath)
    (root / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Front page</title></head><body><ul>"
        + "".join(f'<li><a href="{p}">Edition {i + 1}</a></li>' for i, p in enumerate(listings))
        + "</ul></body></html>")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return Site(root, articles, ["/", *listings], html_bytes)


# ---------------------------------------------------------------------------------------------------- anchor


def anchor(site: Site, base: str) -> tuple[float, float]:
    """(wall, CPU) seconds of serial trafilatura bare_extraction with metadata over the article files."""
    cpu, wall = time.process_time(), time.perf_counter()
    for upath, path in site.articles:
        trafilatura.bare_extraction(path.read_bytes(), url=base + upath, with_metadata=True)
    return time.perf_counter() - wall, time.process_time() - cpu


# ---------------------------------------------------------------------------------------------------- crawls


@dataclass
class Run:
    wall: float
    reactor_cpu: float
    worker_cpu: float
    workers_seen: int
    stats: dict = field(default_factory=dict)

    def stat(self, key: str) -> int:
        return int(self.stats.get(key, 0) or 0)


class CpuSampler(threading.Thread):
    """Samples the cpu_times of a process and of every descendant (the extraction workers) until it exits."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.every = every
        self.main = 0.0
        self.children: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                t = self.proc.cpu_times()
                self.main = t.user + t.system
                for child in self.proc.children(recursive=True):
                    try:
                        ct = child.cpu_times()
                        self.children[child.pid] = ct.user + ct.system
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.done.wait(self.every)


@dataclass
class CrawlConfig:
    project: Path  # the checkout whose crawler runs (another one for A/B tests of a change)
    seeds: Path
    workers: int
    settings: list[str]  # extra KEY=VALUE Scrapy settings


def scrapy_crawl(spider: str, args: list[str], db: Path, config: CrawlConfig, log_path: Path) -> Run:
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for a in args:
        cmd += ["-a", a]
    for k, v in {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
                 "ARCHIVE_EXTRACT_WORKERS": str(config.workers), "LOG_LEVEL": "INFO"}.items():
        cmd += ["-s", f"{k}={v}"]
    for kv in config.settings:
        cmd += ["-s", kv]
    env = {**os.environ, "ARCHIVE_DATABASE_URL": f"sqlite:///{db}", "ARCHIVE_SEEDS_DIR": str(config.seeds),
           "PYTHONPATH": os.pathsep.join(filter(None, (str(config.project), os.environ.get("PYTHONPATH"))))}
    started = time.perf_counter()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=config.project, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = CpuSampler(proc.pid)
        sampler.start()
        # reap by hand so the last sample (main process, workers already gone) is taken before the exit
        code = proc.wait()
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    if code != 0:
        sys.exit(f"{spider} crawl failed (exit {code}); see {log_path}:\n" + log_path.read_text()[-3000:])
    with sqlite3.connect(db) as conn:
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0] or "{}")
    # the main process's own time: children's time is not in cpu_times().user of a live process
    return Run(wall, sampler.main, sum(sampler.children.values()), len(sampler.children), stats)


# ---------------------------------------------------------------------------------------------------- storage


@dataclass
class Storage:
    articles: int
    captures: int
    versions: int
    html_raw: int
    html_stored: int
    text_raw: int
    text_stored: int
    tables: dict[str, int]
    file_bytes: int


def storage(db: Path) -> Storage:
    conn = sqlite3.connect(db)
    try:
        one = lambda q: conn.execute(q).fetchone()
        html_raw, html_stored = one("SELECT coalesce(sum(size),0), coalesce(sum(length(data)),0) FROM blobs")
        text_raw, text_stored = one("SELECT coalesce(sum(size),0), coalesce(sum(length(data)),0) FROM texts")
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:  # SQLite built without dbstat
            rows = []
        return Storage(one("SELECT count(*) FROM articles")[0], one("SELECT count(*) FROM captures")[0],
                       one("SELECT count(*) FROM versions")[0], html_raw, html_stored, text_raw, text_stored,
                       dict(rows), db.stat().st_size)
    finally:
        conn.close()


def table_groups(tables: dict[str, int]) -> dict[str, int]:
    """dbstat rows (tables, their indexes, FTS shadow tables) summed by the table they belong to."""
    out: dict[str, int] = {}
    for name, size in tables.items():
        n = name.removeprefix("sqlite_autoindex_")
        for table in ("captures", "versions", "article_urls", "articles", "blobs", "texts", "crawl_runs", "sites"):
            if n == table or n.startswith((f"ix_{table}_", f"uq_{table}_", f"{table}_")):
                group = table
                break
        else:
            group = "search" if "fts" in n or "search" in n else "other"
        out[group] = out.get(group, 0) + size
    return out


# ---------------------------------------------------------------------------------------------------- report


def machine() -> list[str]:
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("scrapy", "trafilatura", "lxml", "sqlalchemy",
                                                                  "twisted"))
    return [
        (f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {model}, "
         f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM"),
        f"python {platform.python_version()}, {versions}, SQLite {sqlite3.sqlite_version}",
        "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def ratio_line(label: str, value: float, anchor_label: str, anchor_value: float, target: str, ok: bool) -> str:
    r = value / anchor_value if anchor_value else float("inf")
    return (f"{label}: {value:.2f}s   anchor {anchor_label}: {anchor_value:.2f}s   ratio {r:.3f}x   "
            f"target {target}: {'met' if ok else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench" / "aeb")
    parser.add_argument("--copies", type=int, default=12, help="copies of each benchmark page (91 pages each)")
    parser.add_argument("--repeat", type=int, default=2, help="best-of-N for the first crawl and the anchor")
    parser.add_argument("--recrawls", type=int, default=10)
    parser.add_argument("--workers", type=int, default=0, help="ARCHIVE_EXTRACT_WORKERS (0: one per core)")
    parser.add_argument("--keep", type=Path, help="keep the site, archive and logs in this directory")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="run the crawler of this checkout (e.g. a scratch copy with a change to compare)")
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra Scrapy setting for every crawl (repeatable)")
    parser.add_argument("--no-recrawl", action="store_true", help="first crawl and storage only")
    opts = parser.parse_args()
    if not (opts.bench / "html").is_dir():
        sys.exit(f"no benchmark pages in {opts.bench}/html (give --bench)")
    logging.basicConfig(level=logging.WARNING)

    for line in machine():
        print(line)
    work = Path(tempfile.mkdtemp(prefix="bench_crawl_")) if opts.keep is None else opts.keep
    work.mkdir(parents=True, exist_ok=True)
    seeds = work / "no-seeds"
    seeds.mkdir(exist_ok=True)
    config = CrawlConfig(opts.project.resolve(), seeds, opts.workers, opts.settings)
    if config.project != ROOT or opts.settings:
        print(f"crawler from {config.project}; extra settings: {' '.join(opts.settings) or 'none'}")
    try:
        site = build_site(opts.bench, work / "site", opts.copies)
        n = len(site.articles)
        print(f"site: {n} article pages ({opts.copies} copies of {n // opts.copies}), {len(site.listings)} listing "
              f"pages, {site.html_bytes / n / 1024:.1f} KiB of HTML per article")
        with FixtureServer(site.root) as server:
            start = server.url("/")
            best: tuple[Run, Path] | None = None
            anchors: list[tuple[float, float]] = []
            for i in range(opts.repeat):
                anchors.append(anchor(site, server.base))
                db = work / f"crawl{i}.sqlite3"
                db.unlink(missing_ok=True)
                run = scrapy_crawl("site", [f"start_url={start}"], db, config, work / f"crawl{i}.log")
                print(f"  crawl {i + 1}: {run.wall:.2f}s wall, {run.stat('archive/captures/new_version')} new "
                      f"versions; anchor {anchors[-1][0]:.2f}s wall / {anchors[-1][1]:.2f}s CPU")
                if best is None or run.wall < best[0].wall:
                    best = (run, db)
            first, db = best
            anchor_wall = min(a[0] for a in anchors)
            anchor_cpu = min(a[1] for a in anchors)
            captured = first.stat("archive/captures/new_version") + first.stat("archive/captures/unchanged")
            print(f"\n== first crawl (best of {opts.repeat})")
            print(ratio_line("crawl wall", first.wall, "serial trafilatura bare_extraction", anchor_wall, "<= 0.65x",
                             first.wall <= 0.65 * anchor_wall))
            print(f"  {captured} articles archived ({first.stat('archive/new_versions')} new versions), "
                  f"{first.stat('downloader/response_count')} responses, {captured / first.wall:.1f} articles/s "
                  f"(anchor {n / anchor_wall:.1f} pages/s)")
            print(f"  CPU: reactor process {first.reactor_cpu:.2f}s ({100 * first.reactor_cpu / first.wall:.0f}% of "
                  f"one core), extraction workers {first.worker_cpu:.2f}s ({100 * first.worker_cpu / first.wall:.0f}%"
                  f", {first.workers_seen} processes), total {(first.reactor_cpu + first.worker_cpu) / first.wall:.2f} "
                  f"cores; anchor CPU {anchor_cpu:.2f}s")
            print(f"  extraction CPU per article: {first.stat('archive/extract_cpu_ms') / max(captured, 1):.1f} ms "
                  f"(workers' own count) vs anchor {1000 * anchor_cpu / n:.1f} ms; "
                  f"reactor CPU per article {1000 * first.reactor_cpu / max(captured, 1):.1f} ms")
            cores = len(os.sched_getaffinity(0))
            bound = max(first.reactor_cpu, (first.reactor_cpu + first.worker_cpu) / cores)
            print(f"  load-independent check: crawl CPU {first.reactor_cpu + first.worker_cpu:.2f}s over {cores} cores "
                  f"= {bound:.2f}s at best, vs anchor CPU {anchor_cpu:.2f}s: ratio {bound / anchor_cpu:.3f}x "
                  f"(what the wall ratio would be on an idle machine if both cores stayed busy)")
            after_crawl = storage(db)

            print("\n== unchanged recrawls (-a all=true; ARCHIVE_UNCONDITIONAL_EVERY default 5)")
            recrawls: list[tuple[str, Run]] = []
            for i in range(1, 0 if opts.no_recrawl else opts.recrawls + 1):
                unconditional = i % 5 == 0
                server.etags = unconditional or i < 5 or i > 9
                mode = "unconditional" if unconditional else ("ETags" if server.etags else "no ETags")
                run = scrapy_crawl("recrawl", ["all=true"], db, config, work / f"recrawl{i}.log")
                recrawls.append((mode, run))
                kinds = {k.rsplit("/", 1)[1]: v for k, v in run.stats.items() if k.startswith("archive/captures/")}
                print(f"  recrawl {i:2d} ({mode:13s}): {run.wall:6.2f}s  {run.wall / first.wall:.3f}x first crawl  "
                      f"new versions {run.stat('archive/new_versions')}  captures {kinds}  "
                      f"CPU reactor {run.reactor_cpu:.1f}s workers {run.worker_cpu:.1f}s")
            new_versions = sum(r.stat("archive/new_versions") for _, r in recrawls)
            for mode, target in (("ETags", 0.10), ("no ETags", 0.5), ("unconditional", None)):
                runs = [r for m, r in recrawls if m == mode]
                if not runs:
                    continue
                wall = min(r.wall for r in runs)
                if target is None:
                    print(f"recrawl {mode} (best of {len(runs)}): {wall:.2f}s   ratio {wall / first.wall:.3f}x "
                          "of the first crawl   (no target: every 5th revisit re-extracts)")
                else:
                    print(ratio_line(f"recrawl {mode} (best of {len(runs)})", wall, "first crawl", first.wall,
                                     f"<= {target:.2f}x", wall <= target * first.wall))
            print(f"new versions over {len(recrawls)} unchanged recrawls: {new_versions} (target 0: "
                  f"{'met' if new_versions == 0 else 'NOT met'})")
            after = storage(db)

        print("\n== storage (SQLite, bytes per article)")
        report_storage(after_crawl, after, len(recrawls))
    finally:
        if opts.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report_storage(first: Storage, last: Storage, recrawls: int) -> None:
    a = max(first.articles, 1)
    print(f"  articles {first.articles}, versions {first.versions} -> {last.versions}, captures {first.captures} "
          f"-> {last.captures}")
    print(f"  HTML: raw {first.html_raw / a / 1024:.1f} KiB, stored {first.html_stored / a / 1024:.1f} KiB   "
          f"ratio {first.html_stored / max(first.html_raw, 1):.3f}x   target <= 0.25x: "
          f"{'met' if first.html_stored <= 0.25 * first.html_raw else 'NOT met'}")
    print(f"  text: raw {first.text_raw / a / 1024:.2f} KiB, stored {first.text_stored / a / 1024:.2f} KiB   "
          f"ratio {first.text_stored / max(first.text_raw, 1):.3f}x   target <= 0.5x: "
          f"{'met' if first.text_stored <= 0.5 * first.text_raw else 'NOT met'}")
    g1, g2 = table_groups(first.tables), table_groups(last.tables)
    if g1:
        print(f"  {'table (+indexes)':18s} {'after crawl':>12s} {'after ' + str(recrawls) + ' recrawls':>18s} "
              f"{'per recrawl':>12s}   (bytes per article, dbstat pages)")
        for name in sorted(set(g1) | set(g2), key=lambda k: -g2.get(k, 0)):
            b1, b2 = g1.get(name, 0) / a, g2.get(name, 0) / a
            print(f"  {name:18s} {b1:12.0f} {b2:18.0f} {(b2 - b1) / max(recrawls, 1):12.0f}")
        total1, total2 = sum(g1.values()) / a, sum(g2.values()) / a
        print(f"  {'total':18s} {total1:12.0f} {total2:18.0f} {(total2 - total1) / max(recrawls, 1):12.0f}")
    grown = {k: (g2.get(k, 0) - g1.get(k, 0)) / a / max(recrawls, 1) for k in g2}
    non_capture = sum(v for k, v in grown.items() if k not in ("captures",) and v > 0)
    capture_row = grown.get("captures", 0)
    print(f"  growth per unchanged recrawl: captures {capture_row:.0f} B/article, everything else "
          f"{non_capture:.0f} B/article (target: no more than a capture row: "
          f"{'met' if non_capture <= max(capture_row, 1) * 0.5 and last.versions == first.versions else 'NOT met'})")
    print(f"  file: {first.file_bytes / a / 1024:.1f} KiB/article after the crawl, {last.file_bytes / a / 1024:.1f} "
          f"KiB/article after {recrawls} recrawls")


if __name__ == "__main__":
    sys.exit(main())
