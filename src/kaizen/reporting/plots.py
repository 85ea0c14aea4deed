"""Every `dvc plots` definition drawn offline. DVC fills each plot's Vega-Lite template with its
data (`dvc plots show --json`); vl-convert renders the filled specs to SVG without a browser or a
network, and `page` puts them in one self-contained HTML page (no script: `dvc plots show`'s page
loads Vega from a CDN and stays blank offline)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from kaizen import KaizenError


@dataclass(frozen=True)
class Figure:
    """One rendered plot: DVC's plot id, a file-name slug, the SVG."""

    name: str
    slug: str
    svg: str


def slug(name: str) -> str:
    """A file name for a plot id (`metrics/…/confusion_matrix/test.json` -> `…-test`)."""
    text = re.sub(r"\.(json|csv|tsv|yaml)$", "", name)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "plot"


def specs(document: dict[str, Any]) -> list[tuple[str, dict]]:
    """(plot id, Vega-Lite spec) of every Vega plot in `dvc plots show|diff --json`'s output;
    image plots are skipped (they are files already); DVC's own errors become one line."""
    errors = document.get("errors")
    if errors:
        first = errors[0]
        raise KaizenError(f"dvc plots: {first.get('msg') or first.get('type') or first}")
    out = []
    for name, entries in document.get("data", {}).items():
        for entry in entries:
            if entry.get("type") == "vega":
                out.append((name, entry["content"]))
    return out


def render(spec: dict) -> str:
    """A Vega-Lite spec as SVG (vl-convert: a development dependency, `make install-dev`)."""
    try:
        import vl_convert  # pylint: disable=import-outside-toplevel  # only this command needs it
    except ImportError:
        raise KaizenError(
            "kaizen plots needs vl-convert-python: `make install-dev` (or pip install "
            "vl-convert-python)"
        ) from None
    return vl_convert.vegalite_to_svg(spec)


def figures(document: dict[str, Any]) -> list[Figure]:
    """Every Vega plot of the document, rendered; distinct slugs."""
    out: list[Figure] = []
    seen: set[str] = set()
    for name, spec in specs(document):
        base = candidate = slug(name)
        number = 2
        while candidate in seen:
            candidate, number = f"{base}-{number}", number + 1
        seen.add(candidate)
        out.append(Figure(name, candidate, render(spec)))
    return out


def page(drawn: list[Figure], title: str) -> str:
    """One HTML page holding every figure inline: no script, no request of any kind."""
    sections = "\n".join(
        f'<section id="{f.slug}"><h2>{html.escape(f.name)}</h2>\n{_inline(f.svg)}</section>'
        for f in drawn
    )
    toc = "".join(f'<li><a href="#{f.slug}">{html.escape(f.name)}</a></li>' for f in drawn)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "section{margin:2em 0}svg{max-width:100%;height:auto}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{toc}</ul>\n{sections}\n</body></html>\n"
    )


def _inline(svg: str) -> str:
    """The SVG element without its XML declaration (an HTML page embeds it as is)."""
    return re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
