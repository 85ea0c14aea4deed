"""`kaizen plots`: every `dvc plots` definition drawn to SVG and one offline HTML page."""

from __future__ import annotations

import argparse
import json
import logging

from kaizen import KaizenError
from kaizen.commands import runner
from kaizen.io import files
from kaizen.reporting import plots

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `plots`."""
    cmd = commands.add_parser(
        "plots", help="draw every dvc plot to SVG and an offline HTML page (no CDN)"
    )
    cmd.add_argument(
        "revisions",
        nargs="*",
        metavar="REV",
        help="compare the workspace with these git revisions (`dvc plots diff`); none: show",
    )
    cmd.add_argument("--output", default="dvc_plots/offline", help="folder (default: %(default)s)")
    cmd.set_defaults(handler=draw)


def draw(args: argparse.Namespace) -> dict:
    """Fill the plots with DVC, render them, write the folder (replaced whole, on success)."""
    command = ("plots", "diff", *args.revisions) if args.revisions else ("plots", "show")
    text = runner.dvc(*command, "--json").stdout
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KaizenError(f"`dvc {' '.join(command)} --json` printed no JSON") from None
    drawn = plots.figures(document)
    if not drawn:
        raise KaizenError("dvc plots: no plot to draw (run `dvc repro` first?)")
    title = "Plots: workspace" + (f" vs {', '.join(args.revisions)}" if args.revisions else "")
    with files.atomic_dir(args.output) as folder:
        for figure in drawn:
            files.write_text(figure.svg, folder / f"{figure.slug}.svg")
        files.write_text(plots.page(drawn, title), folder / "index.html")
    log.info("%d plot(s) drawn: %s/index.html", len(drawn), args.output)
    return {"plots": len(drawn), "output": args.output}
