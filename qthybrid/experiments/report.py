"""One self-contained HTML page per comparison (``compare.html``): the results table and the figures.

The figures are embedded as base64 PNG data, and the page has its style inline, so it opens in any
browser, offline, from anywhere it is copied to: it loads nothing else. The markup is also
well-formed XML (every element closed, text escaped).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
code { background: #f6f6f6; padding: 0 0.2em; }
"""


def _cell(value, digits: str) -> str:
    return "" if value == "" or value is None else format(value, digits)


def _table(rows: list[dict]) -> str:
    metric = rows[0]["metric"].replace("_", " ") if rows else "metric"
    head = ("<tr><th>variant</th><th>" + html.escape(metric) + " (mean ± std over seeds)</th><th>final loss</th>"
            "<th>s/epoch</th><th>total s</th><th>max |ΔT| vs the first QT curve</th></tr>")
    body = []
    for r in rows:
        body.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in (
            r["variant"], f"{r['value']:.4g} ± {r['value_std']:.2g}", _cell(r.get("loss"), ".4g"),
            _cell(r["seconds_per_epoch"], ".3f"), _cell(r["total_seconds"], ".1f"),
            _cell(r.get("max_abs_dT_vs_first"), ".2e"))) + "</tr>")
    return "<table>\n<thead>" + head + "</thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption, quote=True)}"/>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def write_compare_report(path: str | Path, title: str, rows: list[dict], figures: list[tuple[Path, str]],
                         facts: dict[str, str] | None = None, notes: list[str] | None = None) -> Path:
    """Write the page: ``title``, ``facts`` (setting -> value), the table of ``rows``, ``notes``, ``figures``.

    ``figures``: (PNG path, caption) pairs; missing files are skipped.
    """
    parts = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8"/>',
             f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
             f"<h1>{html.escape(title)}</h1>"]
    if facts:
        parts.append("<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                          for k, v in facts.items()) + "</table>")
    parts += ["<h2>Results</h2>", _table(rows)]
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(note)}</li>" for note in notes) + "</ul>")
    shown = [(Path(p), caption) for p, caption in figures if Path(p).is_file()]
    if shown:
        parts.append("<h2>Figures</h2>")
        parts += [_figure(p, caption) for p, caption in shown]
    parts += ["</body>", "</html>"]
    path = Path(path)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
