"""Differences between two versions: line diff, inline word diff, side-by-side HTML; and a one-line summary."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import escape

_WORDS = re.compile(r"\S+\s*|\s+")  # a word with the space after it: spaces never anchor a match


@dataclass
class Side:
    seq: int
    title: str | None
    author: str | None
    text: str
    first_seen: str | None = None


def word_changes(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed) from ``old`` to ``new``."""
    a, b = old.split(), new.split()
    added = removed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed += i2 - i1
        if op in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def summary(old: Side | None, new: Side) -> str:
    """'first version' or e.g. 'headline changed; byline changed; body +12/-3 words'."""
    if old is None:
        return f"first version ({len(new.text.split())} words)"
    parts = []
    if (old.title or "") != (new.title or ""):
        parts.append("headline changed")
    if (old.author or "") != (new.author or ""):
        parts.append("byline changed")
    added, removed = word_changes(old.text, new.text)
    if added or removed:
        parts.append(f"body +{added}/-{removed} words")
    return "; ".join(parts) or "whitespace or promo-only difference"


def _header_lines(old: Side, new: Side) -> list[str]:
    lines = []
    if (old.title or "") != (new.title or ""):
        lines += [f"headline: - {old.title or ''}", f"headline: + {new.title or ''}"]
    if (old.author or "") != (new.author or ""):
        lines += [f"byline:   - {old.author or ''}", f"byline:   + {new.author or ''}"]
    return lines


def line_diff(old: Side, new: Side, url: str) -> str:
    out = _header_lines(old, new)
    body = difflib.unified_diff(
        old.text.splitlines(), new.text.splitlines(),
        fromfile=f"{url} version {old.seq}", tofile=f"{url} version {new.seq}", lineterm="",
    )
    out.extend(body)
    return "\n".join(out) if out else "no difference"


def word_diff(old: Side, new: Side, *, color: bool = False) -> str:
    """Inline word diff of the changed paragraphs: ``[-removed-]{+added+}``, or red/green on a terminal.
    Unchanged paragraphs are summarised as ``[... N unchanged paragraphs ...]``."""
    import click

    def removed(s: str) -> str:
        return click.style(s, fg="red", strikethrough=True) if color else f"[-{s}-]"

    def added(s: str) -> str:
        return click.style(s, fg="green", underline=True) if color else f"{{+{s}+}}"

    def skipped(n: int) -> str:
        note = f"[... {n} unchanged paragraph{'s' if n > 1 else ''} ...]"
        return click.style(note, dim=True) if color else note

    out = _header_lines(old, new)
    a_lines, b_lines = old.text.splitlines(), new.text.splitlines()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(skipped(i2 - i1))
            continue
        a, b = _WORDS.findall("\n".join(a_lines[i1:i2])), _WORDS.findall("\n".join(b_lines[j1:j2]))
        pieces = []
        for wop, k1, k2, l1, l2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if wop == "equal":
                pieces.append("".join(a[k1:k2]))
                continue
            gone, came = "".join(a[k1:k2]), "".join(b[l1:l2])
            space = (came or gone)[len((came or gone).rstrip()):]
            if gone.strip():
                pieces.append(removed(gone.rstrip()))
            if came.strip():
                pieces.append(added(came.rstrip()))
            pieces.append(space)
        out.append("".join(pieces))
    return "\n".join(out)


def html_diff(old: Side, new: Side, url: str) -> str:
    """A self-contained side-by-side HTML page (headline and byline first)."""
    table = difflib.HtmlDiff(wrapcolumn=90).make_table(
        [f"Headline: {old.title or ''}", f"Byline: {old.author or ''}", "", *old.text.splitlines()],
        [f"Headline: {new.title or ''}", f"Byline: {new.author or ''}", "", *new.text.splitlines()],
        fromdesc=f"version {old.seq} ({old.first_seen or ''})",
        todesc=f"version {new.seq} ({new.first_seen or ''})",
        context=False,
    )
    style = (
        "body{font-family:sans-serif;margin:1.5em}table.diff{border-collapse:collapse;width:100%}"
        "td{vertical-align:top;font-family:Georgia,serif;padding:2px 6px}.diff_header{background:#eee;color:#666}"
        ".diff_next{display:none}.diff_add{background:#cfc}.diff_chg{background:#ffc}.diff_sub{background:#fcc}"
    )
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Changes to {escape(url)}</title>"
        f"<style>{style}</style></head><body><h1>Changes to <a href=\"{escape(url)}\">{escape(new.title or url)}</a></h1>"
        f"<p>{escape(summary(old, new))}</p>{table}</body></html>\n"
    )
