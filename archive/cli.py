"""The ``archive`` command: query, diff and export the archive, extract pages, manage the database.

Commands stay thin: parse, open the database, call ``archive``, print. Results go to stdout; logs to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive import __version__
from archive.db import ENV_VAR, DatabaseError, make_engine, session_factory, upgrade
from archive.normalise import iso_utc, parse_time

log = logging.getLogger(__name__)


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


class TimeParam(click.ParamType):
    name = "TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar=ENV_VAR, default=None, show_envvar=True,
              help="SQLAlchemy URL of the archive (default: sqlite:///archive.sqlite3 in the working directory).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
@click.version_option(__version__, prog_name="archive")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, verbose: int) -> None:
    """Query, diff and export the news archive.

    Example: archive list --changed
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"url": database_url}


@contextmanager
def open_session(ctx: click.Context, *, write: bool = False):
    """A session on the archive; database problems become one-line errors."""
    try:
        engine = make_engine(ctx.obj["url"])
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with Session(engine) as session:
            if write:
                with session.begin():
                    yield session
            else:
                yield session
    except OperationalError as exc:
        raise click.ClickException(f"database error: {str(exc.orig or exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _not_found(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


# --- extraction ------------------------------------------------------------------------------------------------
@cli.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", help="The page's URL (resolves relative links and names the record).")
@click.option("--encoding", help="Charset the server declared, if known.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per file (the default output).")
def extract_cmd(files: tuple[Path, ...], url: str | None, encoding: str | None, as_json: bool) -> None:
    """Extract articles from saved HTML files, without touching the archive.

    Example: archive extract page.html --url https://example.com/2025/06/03/story/ --json
    """
    from archive.extract import extract

    failed = 0
    for path in files:
        try:
            record = extract(path.read_bytes(), url or path.resolve().as_uri(), encoding=encoding)
            if record is None:
                raise ValueError("no text found")
        except (OSError, ValueError) as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            failed += 1
            continue
        _echo_json({
            "file": str(path), "url": url or record.url, "canonical_url": record.canonical_url, "title": record.title,
            "author": record.author, "published": record.published, "modified": record.modified,
            "date": record.published, "text": record.text, "language": record.language,
            "comments_state": record.comments_state, "comment_count": record.comment_count,
        })
    if failed:
        sys.exit(1)


# --- listing and reading -----------------------------------------------------------------------------------------
@cli.command("list")
@click.option("--site", help="Only this site (its name in seeds/).")
@click.option("--since", type=TIME, help="Only articles first seen or changed since this ISO 8601 time.")
@click.option("--changed", is_flag=True, help="Only articles with more than one version.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_context
def list_cmd(ctx, site, since, changed, limit, as_json) -> None:
    """List archived articles with their version counts, most recently changed first.

    Example: archive list --site demo --changed
    """
    from archive.queries import list_articles

    with open_session(ctx) as session:
        for row in list_articles(session, site=site, since=since, changed=changed, limit=limit):
            if as_json:
                _echo_json(row.to_dict())
            else:
                click.echo(f"{row.version_count:>3}  {iso_utc(row.last_changed)}  {row.state:<5}  {row.url}  {row.title or ''}")


@cli.command("search")
@click.argument("text")
@click.option("--site", help="Only this site.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.pass_context
def search_cmd(ctx, text, site, limit, as_json) -> None:
    """Full-text search over every version's headline and body (all words must match).

    Example: archive search "harbour bridge" --site demo
    """
    from archive.queries import search_articles

    with open_session(ctx) as session:
        for hit in search_articles(session, text, site=site, limit=limit):
            if as_json:
                _echo_json(hit)
            else:
                click.echo(f"{hit['url']}  (version {hit['seq']} of {hit['version_count']})  {hit['title'] or ''}")


@cli.command("show")
@click.argument("url")
@click.option("--version", "seq", type=click.IntRange(min=1), help="Version number (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def show_cmd(ctx, url, seq, as_json) -> None:
    """Show one version of an article: headline, byline, dates and body.

    Example: archive show https://example.com/2025/06/03/story/ --version 1
    """
    from archive.queries import NotFound, find_article, get_version, version_text

    with open_session(ctx) as session:
        try:
            article = find_article(session, url)
            version = get_version(session, article, seq)
        except NotFound as exc:
            raise _not_found(exc) from None
        text = version_text(session, version)
        data = {
            "url": article.url, "seq": version.seq, "version_count": article.version_count, "title": version.title,
            "author": version.author, "published": version.published, "modified": version.modified,
            "language": version.language, "content_hash": version.content_hash,
            "first_seen": iso_utc(version.first_seen), "last_seen": iso_utc(version.last_seen), "text": text,
        }
    if as_json:
        _echo_json(data)
        return
    click.echo(click.style(data["title"] or "(no headline)", bold=True))
    click.echo(f"by {data['author'] or 'unknown'}; published {data['published'] or '?'}; modified {data['modified'] or '?'}")
    click.echo(f"version {data['seq']} of {data['version_count']}, seen {data['first_seen']} .. {data['last_seen']}\n")
    click.echo(text)


def _sides(session, article, versions):
    from archive.diff import Side
    from archive.queries import version_text

    return [Side(v.seq, v.title, v.author, version_text(session, v), iso_utc(v.first_seen)) for v in versions]


@cli.command("versions")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, oldest first.")
@click.pass_context
def versions_cmd(ctx, url, as_json) -> None:
    """List an article's versions, oldest first, with a summary of what each one changed.

    Example: archive versions https://example.com/2025/06/03/story/ --json
    """
    from archive.diff import summary
    from archive.queries import NotFound, find_article, versions_of

    with open_session(ctx) as session:
        try:
            article = find_article(session, url)
        except NotFound as exc:
            raise _not_found(exc) from None
        versions = versions_of(session, article)
        sides = _sides(session, article, versions)
    rows = []
    for i, (v, side) in enumerate(zip(versions, sides)):
        rows.append({
            "seq": v.seq, "content_hash": v.content_hash, "title": v.title, "author": v.author,
            "first_seen": iso_utc(v.first_seen), "last_seen": iso_utc(v.last_seen),
            "summary": summary(sides[i - 1] if i else None, side),
        })
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"{r['seq']:>3}  {r['first_seen']} .. {r['last_seen']}  {r['content_hash'][:12]}  {r['summary']}")


@cli.command("diff")
@click.argument("url")
@click.option("--from", "from_seq", type=click.IntRange(min=1), help="Older version (default: the one before --to).")
@click.option("--to", "to_seq", type=click.IntRange(min=1), help="Newer version (default: the latest).")
@click.option("--words", is_flag=True, help="Inline word-level diff (coloured on a terminal).")
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), default="text", show_default=True,
              help="html: a self-contained side-by-side page.")
@click.pass_context
def diff_cmd(ctx, url, from_seq, to_seq, words, fmt) -> None:
    """Show what changed between two versions of an article, headline and byline first.

    Example: archive diff https://example.com/2025/06/03/story/ --from 1 --to 2 --words
    """
    from archive.diff import html_diff, line_diff, word_diff
    from archive.queries import NotFound, find_article, get_version

    with open_session(ctx) as session:
        try:
            article = find_article(session, url)
            new = get_version(session, article, to_seq)
            old_seq = from_seq if from_seq is not None else max(new.seq - 1, 1)
            old = get_version(session, article, old_seq)
        except NotFound as exc:
            raise _not_found(exc) from None
        old_side, new_side = _sides(session, article, [old, new])
    if old_side.seq == new_side.seq:
        click.echo(f"{article.url} has a single version; nothing to compare", err=True)
    if fmt == "html":
        click.echo(html_diff(old_side, new_side, article.url))
    elif words:
        click.echo(word_diff(old_side, new_side, color=sys.stdout.isatty()))
    else:
        click.echo(line_diff(old_side, new_side, article.url))


# --- export ------------------------------------------------------------------------------------------------------
@cli.command("export")
@click.option("-o", "--output", required=True, help="File to write, or - for stdout.")
@click.option("--as-of", type=TIME, help="Each article as it read at this ISO 8601 time.")
@click.option("--since", type=TIME, help="Only articles whose exported version appeared since this time.")
@click.option("--site", help="Only this site.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json"]), default="jsonl", show_default=True)
@click.option("--with-history", is_flag=True, help="Add every version (up to --as-of) under 'history'.")
@click.pass_context
def export_cmd(ctx, output, as_of, since, site, fmt, with_history) -> None:
    """Export a snapshot of the archive: one record per article, streamed in constant memory.

    Example: archive export -o snapshot.jsonl --as-of 2025-06-04T00:00:00Z
    """
    from tqdm import tqdm

    from archive.export import count_snapshot, iter_snapshot, write_snapshot

    with open_session(ctx) as session:
        show = sys.stderr.isatty()
        total = count_snapshot(session, as_of=as_of, since=since, site=site) if show else None
        with tqdm(total=total, unit=" articles", disable=not show, file=sys.stderr) as bar:
            records = iter_snapshot(session, as_of=as_of, since=since, site=site, with_history=with_history)
            if output == "-":
                n = write_snapshot(records, sys.stdout.buffer, fmt, bar)
                sys.stdout.flush()
            else:
                tmp = Path(output + ".part")
                try:
                    with open(tmp, "wb", buffering=1 << 20) as out:
                        n = write_snapshot(records, out, fmt, bar)
                    tmp.replace(output)
                except OSError as exc:
                    tmp.unlink(missing_ok=True)
                    raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    if output != "-":
        click.echo(f"exported {n} article(s) to {output}", err=True)


# --- operations --------------------------------------------------------------------------------------------------
@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def stats_cmd(ctx, as_json) -> None:
    """Archive health: totals, articles due for recrawl, and the last run of each spider.

    Example: archive stats --json
    """
    from archive.queries import archive_stats

    with open_session(ctx) as session:
        data = archive_stats(session)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"sites {data['sites']}  articles {data['articles']} {data['articles_by_state']}  "
               f"versions {data['versions']}  captures {data['captures']}  due for recrawl {data['due_for_recrawl']}")
    for run in data["last_runs"]:
        click.echo(f"  {run['spider']:<8} last run {run['started_at']} .. {run['finished_at'] or 'running'}  "
                   f"{run['status']}: {run['pages_fetched']} pages, {run['new_versions']} new versions, "
                   f"{run['errors']} errors" + (f"  ({run['exit_reason']})" if run["exit_reason"] else ""))


@cli.command("check")
@click.option("--deep", is_flag=True, help="Also decompress every stored HTML and text and verify its hash.")
@click.pass_context
def check_cmd(ctx, deep) -> None:
    """Verify the archive's integrity; exit 1 and list the problems when there are any.

    Example: archive check --deep
    """
    from archive.check import run_checks

    with open_session(ctx) as session:
        problems = list(run_checks(session, deep=deep))
    for problem in problems:
        click.echo(f"problem: {problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} integrity problem(s) found")
    click.echo("archive is consistent", err=True)


@cli.command("reextract")
@click.option("--site", help="Only this site.")
@click.pass_context
def reextract_cmd(ctx, site) -> None:
    """Run extraction again over the stored HTML; add versions only where the content changes.

    Example: archive reextract --site demo
    """
    from tqdm import tqdm

    from archive.reextract import reextract

    try:
        engine = make_engine(ctx.obj["url"])
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    changed = 0
    with tqdm(unit=" articles", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        for change in reextract(session_factory(engine), site=site, progress=bar):
            changed += 1
            click.echo(f"{change.url}: version {change.old_seq or '-'} -> {change.new_seq}")
    engine.dispose()
    click.echo(f"{changed} article(s) got a new version", err=True)


@cli.group("db")
def db_group() -> None:
    """Database maintenance.

    Example: archive db upgrade
    """


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade_cmd(ctx, revision) -> None:
    """Migrate the archive's schema (a new database is migrated automatically on first use too).

    Example: ARCHIVE_DATABASE_URL=postgresql+psycopg://user@host/db archive db upgrade
    """
    try:
        engine = make_engine(ctx.find_root().obj["url"], migrate=False)
        upgrade(engine, revision)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{engine.url.render_as_string(hide_password=True)} is at revision {revision}", err=True)
    engine.dispose()


def main() -> None:
    cli(prog_name="archive")


if __name__ == "__main__":
    main()
