"""Plots drawn offline: DVC's filled Vega-Lite specs to SVG and one page without a script."""

from __future__ import annotations

import pytest

from kaizen import KaizenError
from kaizen.reporting import plots

SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": [{"x": 0, "y": 0, "part": "test"}, {"x": 1, "y": 1, "part": "test"}]},
    "mark": "line",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
        "color": {"field": "part", "type": "nominal"},
    },
}


def document(*names: str) -> dict:
    """What `dvc plots show --json` prints for these plot ids (plus one image plot)."""
    data = {name: [{"type": "vega", "revisions": ["workspace"], "content": SPEC}] for name in names}
    data["plots/image.png"] = [{"type": "image", "revisions": ["workspace"], "url": "x.png"}]
    return {"data": data}


def test_slugs_are_file_names():
    """Plot ids become short, distinct, safe file names."""
    assert plots.slug("ROC (test vs current)") == "roc-test-vs-current"
    assert plots.slug("metrics/evaluate/confusion_matrix/test.json") == (
        "metrics-evaluate-confusion-matrix-test"
    )
    assert plots.slug("***") == "plot"


def test_every_vega_plot_is_drawn_and_the_page_holds_them_without_a_script():
    """Two Vega plots with the same slug: two figures, distinct slugs; images are skipped."""
    drawn = plots.figures(document("A b", "a-b"))
    assert [f.slug for f in drawn] == ["a-b", "a-b-2"]
    assert all(f.svg.lstrip().startswith("<svg") and "</svg>" in f.svg for f in drawn)
    page = plots.page(drawn, "Plots <workspace>")
    assert page.count("<svg") == 2 and "<script" not in page and "<?xml" not in page
    assert "Plots &lt;workspace&gt;" in page and 'href="#a-b-2"' in page


def test_dvc_errors_are_one_line():
    """`errors` in DVC's JSON (a missing data file) stop with DVC's message."""
    with pytest.raises(KaizenError, match="dvc plots: file not found"):
        plots.specs({"errors": [{"msg": "file not found", "type": "FileNotFoundError"}]})
