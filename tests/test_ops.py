"""Operations, run for real: the demo script, scheduled crawls (crawl-job.sh lock and log rotation, the cron and
systemd recipes), deployment to a real scrapyd, and the exit status of ``scrapy crawl`` when a crawl fails."""

from __future__ import annotations

import configparser
import fcntl
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive.cli import cli
from archive.db import make_engine
from archive.models import Article
from crawler.seeds import load_seeds
from tests.conftest import ROOT, run_scrapy
from tests.sites import FixtureServer

SCRIPTS = ROOT / "scripts"
SPIDERS = {"feeds", "sitemap", "site", "recrawl"}


def _load_demo_site():
    spec = importlib.util.spec_from_file_location("demo_site", SCRIPTS / "demo_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("demo_site", module)
    spec.loader.exec_module(module)
    return module


demo_site = _load_demo_site()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script_env(**extra: str) -> dict:
    """The environment for our shell scripts: this interpreter first on PATH, no inherited archive settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "DEMO_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["ARCHIVE_PYTHON"] = sys.executable
    env["ARCHIVE_ENV_FILE"] = os.devnull
    return env | extra


class DemoSite:
    """The bundled demo site in a thread, on an ephemeral port, with URLs on 127.0.0.1."""

    def __enter__(self):
        self.server = demo_site.DemoServer(0, "127.0.0.1")
        self.base = self.server.state.base
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def write_site(folder: Path, base: str, count: int = 5) -> list[str]:
    """Static copies of demo articles plus a feed listing them; returns the article paths."""
    site = demo_site.load_site()
    articles = site.articles[:count]
    for article in articles:
        page = folder / article.path.strip("/") / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(demo_site.article_page(site, article, base, site.articles), encoding="utf-8")
    (folder / "feed.xml").write_text(demo_site.rss_feed(site, articles, base), encoding="utf-8")
    return [a.path for a in articles]


def count_articles(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.execute(select(func.count()).select_from(Article)).scalar_one()
    finally:
        engine.dispose()


# --- the demo --------------------------------------------------------------------------------------------------
def test_demo_site_serves_conditional_gets_and_edits():
    with DemoSite() as site:
        lead = urllib.request.urlopen(site.base + "/_demo/state").read()
        lead_url = json.loads(lead)["lead_url"]
        first = urllib.request.urlopen(lead_url)
        etag, body = first.headers["ETag"], first.read().decode()
        assert first.headers["Last-Modified"] and "NewsArticle" in body
        again = urllib.request.Request(lead_url, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(again)
        assert not_modified.value.code == 304
        edited = json.loads(urllib.request.urlopen(urllib.request.Request(site.base + "/_demo/edit", data=b"")).read())
        assert edited["edition"] == 1 and edited["lead_headline"] != edited["previous_headline"]
        changed = urllib.request.urlopen(again)  # the old ETag no longer matches
        assert changed.status == 200 and edited["lead_headline"] in changed.read().decode()


def test_demo_editions_always_differ_from_the_previous_one():
    site = demo_site.load_site()
    leads = [next(a for a in site.edition(n) if a.slug == site.lead) for n in range(len(site.edits) + 3)]
    assert all(a.paragraphs != b.paragraphs or a.headline != b.headline for a, b in zip(leads, leads[1:]))
    assert all(a.updated < b.updated for a, b in zip(leads, leads[1:]))


def test_demo_script_archives_the_site_shows_the_edit_and_reruns(tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import archive, os; print(os.path.realpath(archive.__file__))"],
                           cwd="/", capture_output=True, text=True)
    if not probe.stdout.startswith(str(ROOT.resolve()) + os.sep) and not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.fail(f"{sys.executable} does not have this checkout installed (pip install -e .): "
                    "demo.sh would create .venv and pip install into it")
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    port = free_port()
    env = script_env(ARCHIVE_DATABASE_URL=url, DEMO_PORT=str(port), DEMO_LOG_DIR=str(tmp_path / "logs"))
    lead = f"http://localhost:{port}/news/2025/06/09/council-approves-harbour-flood-wall/"

    first = subprocess.run(["bash", str(SCRIPTS / "demo.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    assert "already installed" in out or "virtualenv .venv" in out
    assert "archive summary: 8 capture(s), 8 new version(s)" in out  # the first crawl
    assert "archive summary: 8 capture(s), 1 new version(s)" in out  # the recrawl after the edit
    assert out.count(f"localhost:{port}/news/") >= 8  # archive list
    tail = out[out.rindex(f"$ archive diff {lead} --words"):]
    assert "{+six+}" in tail and "[-seven-]" in tail and "as cost rises to £18.4m" in tail
    assert "headline: + Council approves harbour flood wall as cost rises to £18.4m" in out

    # archive stats after a demo crawl: the last run of each spider, with its figures
    stats = subprocess.run([sys.executable, "-m", "archive", "stats", "--json"], env=env, capture_output=True,
                           text=True, cwd=ROOT, timeout=60)
    data = json.loads(stats.stdout)
    runs = {r["spider"]: r for r in data["last_runs"]}
    assert data["articles"] == 8 and data["versions"] == 9 and data["due_for_recrawl"] == 0
    assert runs["feeds"]["new_versions"] == 8 and runs["recrawl"]["new_versions"] == 1
    assert runs["feeds"]["pages_fetched"] >= 9 and runs["recrawl"]["pages_fetched"] >= 8
    assert runs["feeds"]["errors"] == 0 and runs["recrawl"]["status"] == "finished"
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(update(Article).values(next_check=datetime.now(timezone.utc) - timedelta(minutes=1)))
    engine.dispose()
    stats = subprocess.run([sys.executable, "-m", "archive", "stats"], env=env, capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
    assert "due for recrawl 8" in stats.stdout

    # a second run: the archive has the articles; the new edit is one more version and the diff shows it
    second = subprocess.run(["bash", str(SCRIPTS / "demo.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    out = second.stdout
    assert "already holds 2 version(s)" in out
    assert "archive summary: 0 capture(s), 0 new version(s), 8 skipped" in out  # the feed lists only archived articles
    assert "archive summary: 8 capture(s), 1 new version(s)" in out
    assert "headline: + Harbour flood wall approved: work to start next March" in out
    assert re.search(r"^  3  .*headline changed", out, re.M)


# --- scheduled crawls --------------------------------------------------------------------------------------------
def cron_jobs() -> dict[str, tuple[list[str], str]]:
    """spider -> (the five time fields, the command) for each job in scripts/cron.example."""
    jobs = {}
    for line in (SCRIPTS / "cron.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 5)
        command = fields[5]
        jobs[command.split()[1]] = (fields[:5], command)
    return jobs


def _cron_values(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        rng, _, step = part.partition("/")
        start, end = (low, high) if rng == "*" else (int(rng.split("-")[0]), int(rng.split("-")[-1]))
        assert low <= start <= end <= high, field
        values.update(range(start, end + 1, int(step or 1)))
    return values


def test_cron_example_schedules_each_spider_as_documented():
    jobs = cron_jobs()
    assert set(jobs) == SPIDERS
    for spider, (fields, command) in jobs.items():
        assert command.split()[0].endswith("/scripts/crawl-job.sh") and len(command.split()) == 2
        minutes = _cron_values(fields[0], 0, 59)
        hours = _cron_values(fields[1], 0, 23)
        assert fields[2:] == ["*", "*", "*"]
        runs_per_day = len(minutes) * len(hours)
        assert runs_per_day == {"feeds": 96, "recrawl": 48, "sitemap": 1, "site": 1}[spider], spider
    assert not _cron_values(jobs["feeds"][0][0], 0, 59) & _cron_values(jobs["recrawl"][0][0], 0, 59)


def test_systemd_units_verify_and_time_each_spider_as_documented(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    out = tmp_path / "units"
    subprocess.run(["bash", str(SCRIPTS / "systemd" / "render.sh"), str(out)], check=True, capture_output=True)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["archive-crawl-feeds.timer", "archive-crawl-recrawl.timer", "archive-crawl-site.timer",
                     "archive-crawl-sitemap.timer", "archive-crawl@.service"]
    verify = subprocess.run(["systemd-analyze", "verify", *files], cwd=out, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    service = (out / "archive-crawl@.service").read_text()
    assert f"ExecStart={ROOT}/scripts/crawl-job.sh %i" in service and "Type=oneshot" in service
    expected = {"feeds": timedelta(minutes=15), "recrawl": timedelta(minutes=30), "sitemap": timedelta(days=1),
                "site": timedelta(days=1)}
    for spider, every in expected.items():
        timer = (out / f"archive-crawl-{spider}.timer").read_text()
        assert f"Unit=archive-crawl@{spider}.service" in timer and "Persistent=true" in timer
        spec = re.search(r"^OnCalendar=(.+)$", timer, re.M).group(1)
        cal = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", spec], capture_output=True, text=True,
                             env={**os.environ, "TZ": "UTC", "LC_ALL": "C"})
        assert cal.returncode == 0, cal.stderr
        stamps = [datetime.strptime(m, "%Y-%m-%d %H:%M:%S") for m in
                  re.findall(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", cal.stdout)]
        assert len(stamps) == 3 and stamps[2] - stamps[1] == stamps[1] - stamps[0] == every, (spider, cal.stdout)


def _slow_feed(delay: float, body: bytes):
    def route(handler):
        time.sleep(delay)
        handler.send(200, body, {"Content-Type": "application/rss+xml"})
    return route


def test_crawl_job_lock_keeps_two_runs_of_a_spider_apart(tmp_path, sqlite_url):
    """Two runs of the cron.example feeds line: the second finds the first holding the lock and skips."""
    (tmp_path / "site").mkdir()
    with FixtureServer(tmp_path / "site") as server:
        write_site(tmp_path / "site", server.base, count=3)
        server.routes["/slow-feed.xml"] = _slow_feed(2.0, (tmp_path / "site" / "feed.xml").read_bytes())
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        (seeds / "fixture.toml").write_text(
            f'name = "fixture"\ndomains = ["127.0.0.1"]\nfeeds = ["{server.url("/slow-feed.xml")}"]\n')
        logs = tmp_path / "logs"
        env = script_env(ARCHIVE_DATABASE_URL=sqlite_url, ARCHIVE_SEEDS_DIR=str(seeds), ARCHIVE_LOG_DIR=str(logs),
                         ARCHIVE_LOG_LEVEL="INFO")
        command = cron_jobs()["feeds"][1].replace("/srv/news-archive", str(ROOT))
        # politeness off for the local site, as the tests' run_scrapy does
        command += " -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0 -s ARCHIVE_EXTRACT_WORKERS=1"
        first = subprocess.Popen(["bash", "-c", command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while "/slow-feed.xml" not in server.paths():  # the first run is inside its crawl, holding the lock
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        started = time.monotonic()
        second = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0 and time.monotonic() - started < 1.5
        assert first.poll() is None  # the first is still running: they did not overlap
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        log = (logs / "feeds.log").read_text()
        assert log.count("crawl-job: start feeds") == 1 and log.count("crawl-job: skipped feeds") == 1
        assert log.index("crawl-job: skipped feeds") < log.index("crawl-job: end feeds: exit 0")
        assert "archive summary: 3 capture(s), 3 new version(s)" in log
        assert count_articles(sqlite_url) == 3
        with open(logs / "feeds.lock") as lock:  # released when the run ended
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_crawl_job_rotates_its_log_and_reports_a_failed_crawl(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "recrawl.log").write_text("old run\n" * 200)  # 1600 bytes: over the limit
    (logs / "recrawl.log.1").write_text("older run\n")
    (logs / "recrawl.log.2").write_text("oldest run\n")
    env = script_env(ARCHIVE_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/x", ARCHIVE_LOG_DIR=str(logs),
                     ARCHIVE_LOG_MAX_BYTES="1000", ARCHIVE_LOG_KEEP="2")
    run = subprocess.run(["bash", str(SCRIPTS / "crawl-job.sh"), "recrawl"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert "crawl-job: recrawl failed (exit 1) - crawl failed: cannot reach database" in run.stderr
    assert (logs / "recrawl.log.1").read_text().startswith("old run")
    assert (logs / "recrawl.log.2").read_text() == "older run\n"  # the oldest was dropped: KEEP=2
    assert not (logs / "recrawl.log.3").exists()
    log = (logs / "recrawl.log").read_text()
    assert "crawl failed: cannot reach database" in log and "crawl-job: end recrawl: exit 1" in log
    # under the limit: no rotation, the next run appends
    again = subprocess.run(["bash", str(SCRIPTS / "crawl-job.sh"), "recrawl"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 1 and (logs / "recrawl.log").read_text().count("crawl-job: start recrawl") == 2


# --- exit status of scrapy crawl ---------------------------------------------------------------------------------
def _last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_crawl_exits_1_when_the_database_is_unreachable(tmp_path):
    proc = run_scrapy("feeds", "feed=http://127.0.0.1:9/feed.xml", db_url="postgresql+psycopg://postgres@127.0.0.1:1/x",
                      timeout=60)
    assert proc.returncode == 1
    assert _last_line(proc).startswith("crawl failed: cannot reach database postgresql+psycopg://postgres@127.0.0.1:1/x")
    assert "Traceback" not in proc.stderr


def test_crawl_exits_1_naming_every_invalid_seed(tmp_path, sqlite_url):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "broken.toml").write_text('name = "broken"\ndomains = [\n')
    (seeds / "nourls.toml").write_text('name = "nourls"\ndomains = ["example.org"]\n')
    proc = run_scrapy("feeds", db_url=sqlite_url, seeds_dir=seeds, timeout=60)
    assert proc.returncode == 1
    assert "crawl failed: invalid seeds" in proc.stderr
    assert "broken.toml: not valid TOML" in proc.stderr
    assert "nourls.toml: needs at least one of feeds, sitemaps or start_urls" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_crawl_exits_1_when_every_request_failed(sqlite_url):
    dead = free_port()  # nothing listens there
    proc = run_scrapy("feeds", f"feed=http://127.0.0.1:{dead}/feed.xml", db_url=sqlite_url, timeout=60)
    assert proc.returncode == 1
    assert _last_line(proc).startswith("crawl failed: every request failed")


def test_crawl_with_some_server_errors_exits_0_and_reports_them(tmp_path, sqlite_url):
    (tmp_path / "site").mkdir()
    with FixtureServer(tmp_path / "site") as server:
        paths = write_site(tmp_path / "site", server.base, count=5)
        broken = paths[:2]
        for path in broken:
            server.routes[path] = lambda h: h.send(500, b"<h1>Internal Server Error</h1>", {"Content-Type": "text/html"})
        proc = run_scrapy("feeds", f"feed={server.url('/feed.xml')}", db_url=sqlite_url, timeout=60,
                          settings={"RETRY_TIMES": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"archive summary: 3 capture\(s\), 3 new version\(s\), .*2 error\(s\)", proc.stderr)
    for path in broken:
        assert re.search(rf"Gave up retrying <GET {re.escape(server.url(path))}>.*500", proc.stderr)
    assert count_articles(sqlite_url) == 3
    # and `archive stats` shows the operator the run's errors
    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "--json"])
    run = json.loads(result.output)["last_runs"][0]
    assert (run["spider"], run["status"], run["new_versions"], run["errors"]) == ("feeds", "finished", 3, 2)


# --- scrapyd ---------------------------------------------------------------------------------------------------
def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_scrapyd_deploy_and_schedule_feeds_into_the_archive(tmp_path, sqlite_url):
    """A real scrapyd on 127.0.0.1: scrapyd-deploy a copy of the checkout, schedule.json a feeds crawl."""
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n"
        "items_dir =\npoll_interval = 0.2\nmax_proc = 1\n")
    env = script_env(ARCHIVE_SEEDS_DIR=str(home / "no-seeds"))
    server_log = open(home / "scrapyd.out", "w")
    scrapyd = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, env=env, stdout=server_log,
                               stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/"
    try:
        # a copy of the checkout, its [deploy] target pointed at this scrapyd (scrapyd-deploy writes setup.py)
        project = tmp_path / "checkout"
        project.mkdir()
        for entry in ROOT.iterdir():  # top-level files and Python packages: what the egg is built from
            if entry.is_file() and not entry.name.startswith(("archive.sqlite3", "setup.py", ".")):
                shutil.copy2(entry, project / entry.name)
            elif entry.is_dir() and (entry / "__init__.py").exists() and entry.name != "tests":
                shutil.copytree(entry, project / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        cfg = configparser.ConfigParser()
        cfg.read(project / "scrapy.cfg")
        name = cfg["deploy"]["project"]
        cfg["deploy"]["url"] = api
        with open(project / "scrapy.cfg", "w") as fh:
            cfg.write(fh)
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _get_json(api + "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert scrapyd.poll() is None and time.monotonic() < deadline, (home / "scrapyd.out").read_text()
                time.sleep(0.2)
        deploy = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy"], cwd=project, env=env,
                                capture_output=True, text=True, timeout=120)
        assert deploy.returncode == 0, deploy.stderr
        answer = json.loads(deploy.stdout)
        if "'module_name'" in answer.get("message", ""):
            pytest.fail("the egg has no Scrapy settings entry point: pyproject.toml needs "
                        '[project.entry-points.scrapy] settings = "crawler.settings"')
        assert answer["status"] == "ok" and answer["spiders"] == 4, answer
        # what a scrapyd host without this checkout needs from the egg (here the editable install could mask gaps)
        egg = zipfile.ZipFile(next((home / "eggs" / name).glob("*.egg")))
        contents = set(egg.namelist())
        for module in ("archive/db.py", "archive/cli.py", "crawler/settings.py", "crawler/commands/crawl.py",
                       "crawler/spiders/feeds.py", "migrations/env.py", "migrations/script.py.mako"):
            assert module in contents, f"{module} is missing from the egg"
        assert any(n.startswith("migrations/versions/") and n.endswith(".py") for n in contents)

        with DemoSite() as site:
            form = [("project", name), ("spider", "feeds"), ("feed", site.base + "/feed.xml"),
                    ("setting", f"ARCHIVE_DATABASE_URL={sqlite_url}"), ("setting", "AUTOTHROTTLE_ENABLED=False"),
                    ("setting", "DOWNLOAD_DELAY=0"), ("setting", "ARCHIVE_EXTRACT_WORKERS=1")]
            request = urllib.request.Request(api + "schedule.json", data=urllib.parse.urlencode(form).encode())
            job = json.loads(urllib.request.urlopen(request, timeout=10).read())
            assert job["status"] == "ok", job
            deadline = time.monotonic() + 90
            while True:
                jobs = _get_json(api + f"listjobs.json?project={name}")
                if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                    break
                assert time.monotonic() < deadline, jobs
                time.sleep(0.3)
        log = (home / "logs" / name / "feeds" / f"{job['jobid']}.log").read_text()
        assert "archive summary: 8 capture(s), 8 new version(s)" in log, log[-3000:]
        assert count_articles(sqlite_url) == 8
        assert "Process died" not in (home / "scrapyd.out").read_text()
    finally:
        scrapyd.terminate()
        scrapyd.wait(timeout=30)
        server_log.close()


# --- seeds -------------------------------------------------------------------------------------------------------
def test_example_seeds_are_valid_and_never_loaded_by_default():
    examples = load_seeds(ROOT / "seeds" / "examples")
    assert len(examples) == 3
    assert all(s.allow and (s.deny or s.follow_deny) for s in examples)
    assert all(s.recrawl != type(s.recrawl)() for s in examples)  # each overrides the recrawl policy
    default = {s.name for s in load_seeds(ROOT / "seeds")}
    assert "demo" in default and not default & {s.name for s in examples}


def test_demo_seed_matches_the_demo_server():
    demo = next(s for s in load_seeds(ROOT / "seeds") if s.name == "demo")
    site = demo_site.load_site()
    base = f"http://localhost:{demo_site.DEFAULT_PORT}"
    assert demo.feeds == (base + "/feed.xml",) and demo.owns(base + "/")
    assert all(demo.is_article_url(base + a.path) for a in site.articles)
    assert not demo.is_article_url(base + "/") and not demo.may_follow(base + "/_demo/edit")
