"""`kaizen plots` on a fake `dvc plots show --json`: the folder, the page, one-line errors."""

from __future__ import annotations

import json
import subprocess

from kaizen import cli
from kaizen.commands import runner
from tests.unit.helpers import assert_one_line_error
from tests.unit.reporting.test_plots import document


def fake_dvc(monkeypatch, stdout: str, calls: list) -> None:
    """runner.execute answering every call with `stdout`."""

    def fake(*args, **_options):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout, "")

    monkeypatch.setattr(runner, "execute", fake)


def test_plots_writes_one_svg_per_plot_and_the_page(monkeypatch, tmp_path, capsys):
    """`show` by default, `diff REV` with revisions; the folder holds the SVGs and index.html."""
    calls: list = []
    fake_dvc(monkeypatch, json.dumps(document("ROC", "PR")), calls)
    out = tmp_path / "offline"
    assert cli.main(["plots", "--output", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == {"plots": 2, "output": str(out)}
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "pr.svg", "roc.svg"]
    assert calls == [("dvc", "plots", "show", "--json")]
    assert cli.main(["plots", "main", "--output", str(out)]) == 0
    assert calls[-1] == ("dvc", "plots", "diff", "main", "--json")
    assert "vs main" in (out / "index.html").read_text(encoding="utf-8")


def test_plots_errors_leave_the_folder_alone(monkeypatch, tmp_path, capsys):
    """No plot, or output that is not JSON: one line, the previous folder intact."""
    out = tmp_path / "offline"
    out.mkdir()
    (out / "keep.svg").write_text("<svg/>", encoding="utf-8")
    fake_dvc(monkeypatch, json.dumps({"data": {}}), [])
    assert cli.main(["plots", "--output", str(out)]) == 1
    assert_one_line_error(capsys.readouterr().err, "no plot to draw")
    fake_dvc(monkeypatch, "ERROR: something", [])
    assert cli.main(["plots", "--output", str(out)]) == 1
    assert_one_line_error(capsys.readouterr().err, "printed no JSON")
    assert [p.name for p in out.iterdir()] == ["keep.svg"]
