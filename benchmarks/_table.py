"""Plain-text tables for the benchmark report (also valid Markdown)."""

from __future__ import annotations

from typing import Any


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def table(columns: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(c)
              for i, c in enumerate(columns)]
    def line(cells: list[Any]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(columns), sep, *(line(r) for r in rows)])


def render(header: list[str], sections: list[tuple[str, list[str], list[list[str]]]],
           targets: list[dict[str, Any]], notes: list[str]) -> str:
    out = ["\n".join(header), ""]
    for title, columns, rows in sections:
        out += [f"### {title}", "", table(columns, rows), ""]
    if targets:
        rows = []
        for t in targets:
            extra = ""
            if t.get("expected") and t.get("rank1") != t["expected"]:
                extra = f"rank 1 {t.get('rank1')} (expected {t['expected']})"
                if t.get("by_design"):
                    extra = f"rank 1 {t['rank1']}, by design: {t['by_design']}"
            rows.append([t["target"], t["measured"], "met" if t["met"] else "MISSED", extra])
        met = sum(1 for t in targets if t["met"])
        out += [f"### Targets: {met}/{len(targets)} met", "",
                table(["target", "measured (median)", "result", "note"], rows), ""]
    for note in notes:
        out.append(f"note: {note}")
    return "\n".join(out).rstrip() + "\n"
