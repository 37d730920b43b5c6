#!/usr/bin/env python3
"""Benchmark archive.extract against trafilatura's modes on the Article Extraction Benchmark pages.

Body: precision / recall / F1 with the benchmark's own metric (loaded from ``score_body.py`` next to the
bench directory), accuracy, and pages per second, for our extractor and each trafilatura mode, in one run.
Metadata: title, author and published date against hand labels (``scripts/bench_labels.json``), ours versus
trafilatura's ``bare_extraction(..., with_metadata=True)``.

Usage (from the project root):
    python3 scripts/bench_extraction.py [--bench ../shared/bench/aeb] [--repeat 3] [--per-page]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from archive.extract import extract  # noqa: E402


def load_scorer(bench: Path) -> Any:
    """The benchmark's scoring module (stdlib only), from ``score_body.py`` beside or above the bench dir."""
    for cand in (bench / "score_body.py", bench.parent / "score_body.py"):
        if cand.exists():
            spec = importlib.util.spec_from_file_location("score_body", cand)
            mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(mod)  # type: ignore[union-attr]
            return mod
    sys.exit(f"score_body.py not found next to {bench}")


def _text(doc: Any) -> str:
    if doc is None:
        return ""
    return doc if isinstance(doc, str) else (doc.text or "")


def modes() -> dict[str, Callable[[bytes, str], Any]]:
    """name -> function(html, url) returning a record/document or text."""
    return {
        "archive.extract": lambda h, u: extract(h, u),
        "trafilatura default": lambda h, u: trafilatura.extract(h, url=u),
        "trafilatura no comments": lambda h, u: trafilatura.extract(h, url=u, include_comments=False),
        "trafilatura precision": lambda h, u: trafilatura.extract(h, url=u, favor_precision=True),
        "trafilatura recall": lambda h, u: trafilatura.extract(h, url=u, favor_recall=True),
        "trafilatura bare+metadata": lambda h, u: trafilatura.bare_extraction(h, url=u, with_metadata=True),
    }


def timed_pass(fn: Callable[[bytes, str], Any], pages: dict[str, tuple[bytes, dict]]
               ) -> tuple[dict[str, Any], float, float]:
    """One pass of a mode over all pages: outputs, CPU seconds of this process, wall seconds."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    outs = {pid: fn(html, truth["url"]) for pid, (html, truth) in pages.items()}
    return outs, time.process_time() - cpu, time.perf_counter() - wall


def body_scores(sb: Any, pages: dict[str, tuple[bytes, dict]], outs: dict[str, Any]
                ) -> tuple[dict[str, float], dict[str, tuple]]:
    rows, per = [], {}
    for pid, (_, truth) in pages.items():
        tp, fp, fn, exact = sb.page_counts(truth.get("articleBody") or "", _text(outs[pid]))
        p, r, f1 = sb.page_scores(tp, fp, fn)
        rows.append((p, r, f1, exact))
        per[pid] = (p, r, f1)
    return sb.aggregate(rows), per


# ---------------------------------------------------------------- metadata


def _n(s: str | None) -> str:
    s = (s or "").replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", s).strip().lower()


def meta_ok(field: str, got: str | None, want: Any) -> bool:
    """Title: equal after normalising space/quotes/case. Author: same set of names ("; "-separated, order
    free, dots ignored); an expected null wants null. Published: the same calendar day (first 10
    characters); a label may list two days when the page's own dates straddle midnight UTC."""
    if field == "title":
        return _n(got) == _n(want)
    if field == "author":
        if want is None:
            return not got
        split = lambda s: {_n(x.replace(".", " ")).replace("  ", " ") for x in re.split(r";|,| and ", s or "")
                           if x.strip()}  # noqa: E731
        return split(got) == split(want)
    if field == "published":
        if not want:
            return not got
        return (got or "")[:10] in ([w[:10] for w in want] if isinstance(want, list) else [want[:10]])
    raise ValueError(field)


def meta_fields(doc: Any) -> dict[str, str | None]:
    if doc is None:
        return {"title": None, "author": None, "published": None}
    if hasattr(doc, "published"):
        return {"title": doc.title, "author": doc.author, "published": doc.published}
    return {"title": doc.title, "author": doc.author, "published": doc.date}


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench" / "aeb",
                    help="dir with html/*.html and truth/*.json (default: ../shared/bench/aeb)")
    ap.add_argument("--labels", type=Path, default=ROOT / "scripts" / "bench_labels.json")
    ap.add_argument("--repeat", type=int, default=3, help="timing passes per mode (best is kept)")
    ap.add_argument("--per-page", action="store_true", help="print our per-page F1 and metadata misses")
    ap.add_argument("--only-ours", action="store_true", help="skip the trafilatura modes")
    args = ap.parse_args(argv)
    logging.disable(logging.CRITICAL)  # trafilatura warns on every discarded page

    bench = args.bench.resolve()
    sb = load_scorer(bench)
    pages = {}
    for path in sorted((bench / "html").glob("*.html")):
        truth_path = bench / "truth" / f"{path.stem}.json"
        if truth_path.exists():
            pages[path.stem] = (path.read_bytes(), json.loads(truth_path.read_text(encoding="utf-8")))
    if not pages:
        sys.exit(f"no pages in {bench}")
    todo = modes()
    if args.only_ours:
        todo = {k: v for k, v in todo.items() if k == "archive.extract"}
    # warm-up: imports, caches, lazily loaded data (tld lists, date patterns) for every mode
    for fn in todo.values():
        for html, truth in list(pages.values())[:5]:
            fn(html, truth["url"])

    print(f"bench: {bench} ({len(pages)} pages), trafilatura {trafilatura.__version__}, "
          f"{args.repeat} rounds of timing passes, modes interleaved; pages/s = pages / best CPU seconds of "
          "this process (wall-clock in brackets), so other load on the machine does not skew the comparison\n")
    print(f"{'mode':<28} {'precision':>9} {'recall':>7} {'F1':>7} {'accuracy':>8} {'pages/s':>8} {'(wall)':>8}")
    outs_by: dict[str, dict[str, Any]] = {}
    cpu_by: dict[str, float] = {}
    wall_by: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, fn in todo.items():
            outs, cpu, wall = timed_pass(fn, pages)
            outs_by[name] = outs
            cpu_by[name] = min(cpu_by.get(name, float("inf")), cpu)
            wall_by[name] = min(wall_by.get(name, float("inf")), wall)
    results = {}
    for name in todo:
        m, per = body_scores(sb, pages, outs_by[name])
        results[name] = (outs_by[name], per)
        print(f"{name:<28} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} {m['accuracy']:>8.3f} "
              f"{len(pages) / cpu_by[name]:>8.1f} {f'({len(pages) / wall_by[name]:.1f})':>8}")

    ours = results["archive.extract"][0]
    kinds: dict[str, int] = {}
    for rec in ours.values():
        kinds[rec.page_kind if rec else "None"] = kinds.get(rec.page_kind if rec else "None", 0) + 1
    print(f"\npage_kind of our records: {kinds}")

    if args.labels.exists():
        labels = json.loads(args.labels.read_text(encoding="utf-8"))
        theirs = results.get("trafilatura bare+metadata", (None,))[0]
        print(f"\nmetadata on {len(labels)} hand-labelled pages ({args.labels.name}): right answers")
        print(f"{'field':<10} {'archive.extract':>16} {'trafilatura':>12}")
        misses = []
        for field in ("title", "author", "published"):
            n_ours = n_theirs = total = 0
            for pid, lab in labels.items():
                if field not in lab or pid not in ours:
                    continue
                total += 1
                got = meta_fields(ours[pid])[field]
                n_ours += meta_ok(field, got, lab[field])
                if not meta_ok(field, got, lab[field]):
                    misses.append((pid[:12], field, got, lab[field]))
                if theirs is not None:
                    n_theirs += meta_ok(field, meta_fields(theirs[pid])[field], lab[field])
            their_cell = f"{n_theirs}/{total}" if theirs is not None else "-"
            print(f"{field:<10} {f'{n_ours}/{total}':>16} {their_cell:>12}")
        if args.per_page:
            for miss in misses:
                print("  miss", *miss)
    if args.per_page:
        print("\nour lowest per-page F1:")
        per = results["archive.extract"][1]
        for pid, (p, r, f1) in sorted(per.items(), key=lambda kv: kv[1][2])[:15]:
            print(f"  {pid[:16]} P={p if p is None else round(p, 3)} R={r if r is None else round(r, 3)} "
                  f"F1={f1:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
