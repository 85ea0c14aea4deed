"""report: read the workspace and a base revision (git, dvc), write the pull-request markdown."""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml
from pydantic import ValidationError

from kaizen import KaizenError
from kaizen.io import files
from kaizen.io.dvc import cached_output
from kaizen.reporting import report as R
from kaizen.config import DriftConfig
from kaizen.splits import split_from_current_start
from kaizen.io.tables import full_scores, parse_raw, parse_scores, parse_table
from kaizen.reporting.charts import COLOURS
from kaizen.commands import runner
from kaizen.commands.pipeline import optional_stage_option, stage_option
from kaizen.config import ReportConfig
from kaizen.io.params import load_params
from kaizen.reporting.datadiff import DataChange, Reading, data_change
from kaizen.format import is_number
from kaizen.pipeline.metrics import PARTS, flatten

CODE = ("src", "dvc.yaml")  # what can change results without changing params or data
KINDS = ("roc", "precision_recall")  # dvclive plot names, also the key of their JSON


def workspace(path: str) -> bytes | None:
    """A workspace file's bytes, or None when it is missing."""
    return files.read_bytes(path)


def parse_json(raw: bytes | None, source: str):
    """Decoded JSON, None for a missing file, a one-line error for an invalid one."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KaizenError(f"{source}: invalid JSON ({exc.msg}, line {exc.lineno})") from None


def dvc_output(*args: str) -> str:
    """A dvc command's stdout, or a one-line error."""
    return runner.dvc(*args).stdout


def _dvc_views(pool: ThreadPoolExecutor, commit: str) -> list[Future]:
    """Start `dvc metrics diff`, `dvc params diff` (JSON) and `dvc dag --md` side by side."""
    return [
        pool.submit(dvc_output, "metrics", "diff", commit, "--all", "--json"),
        pool.submit(dvc_output, "params", "diff", commit, "--json"),
        pool.submit(dvc_output, "dag", "--md"),
    ]


def _data_settings(raw: bytes | None) -> dict:
    """The `data` section of a params.yaml (empty when absent or unreadable)."""
    if raw is None:
        return {}
    try:
        content = yaml.safe_load(raw) or {}
    except yaml.YAMLError:
        return {}
    section = content.get("data") if isinstance(content, dict) else None
    return section if isinstance(section, dict) else {}


def _blob(commit: str, path: str) -> str | None:
    """Git object id of a file at `commit` (None when absent)."""
    result = runner.git("rev-parse", "--verify", "--quiet", f"{commit}:./{path}", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


class Outputs(NamedTuple):
    """The stage outputs the report reads, under the folders dvc.yaml gives."""

    evaluate: str
    drift: str
    drift_features: str
    scores: str  # .format(part=…)
    curve: str  # .format(kind=…, part=…)
    calibration: str  # .format(part=…)
    full_scores: str  # evaluate's DVC-cached Parquet of every row's score
    scorecard: str = ""  # the scorecard benchmark's metrics and checks
    scorecard_checks: str = ""
    fairness: str = ""  # the fairness stage's report.json (empty: no fairness stage)

    @classmethod
    def from_dvc_yaml(cls) -> "Outputs":
        """Paths under the evaluate and drift stages' `--output` folders."""
        evaluate = stage_option("evaluate", "output")
        drift = stage_option("drift", "output")
        fairness = optional_stage_option("fairness", "output")
        return cls(
            evaluate=f"{evaluate}/metrics.json",
            drift=f"{drift}/metrics.json",
            drift_features=f"{drift}/features.json",
            scores=f"{evaluate}/scores/{{part}}.csv",
            curve=f"{evaluate}/plots/sklearn/{{kind}}/{{part}}.json",
            calibration=f"{evaluate}/plots/calibration/{{part}}.csv",
            full_scores=stage_option("evaluate", "scores"),
            scorecard=optional_stage_option("scorecard", "metrics") or "",
            scorecard_checks=optional_stage_option("scorecard", "checks") or "",
            fairness=f"{fairness}/report.json" if fairness else "",
        )


def _records(raw: bytes | None) -> list[dict] | None:
    """A small CSV as one dict per row, or None when missing."""
    table = parse_table(raw)
    return None if table is None else table.to_dict("records")


def raw_data_change(commit: str, params_path: str) -> DataChange | None:
    """Compare the raw data file of base and head (in git or DVC-tracked) when they differ."""
    head = _data_settings(workspace(params_path))
    base = _data_settings(runner.file_at(commit, params_path))
    path = head.get("path")
    head_bytes = workspace(path) if isinstance(path, str) else None
    if not isinstance(path, str) or head_bytes is None:
        return None
    base_path = str(base.get("path") or path)
    base_bytes = runner.data_at(commit, base_path)
    if base_bytes == head_bytes:
        return None
    separator = head.get("separator", ",")
    head_frame = parse_raw(head_bytes, path, separator)
    base_frame = None
    if base_bytes is not None:
        base_frame = parse_raw(base_bytes, f"{base_path} (base)", base.get("separator", separator))
    reading = Reading(
        str(head.get("target", "")),
        head.get("positive", 1),
        drift=_drift_settings(workspace(params_path)),
        row_starts=(row_split_start(base), row_split_start(head)),
        key=row_key(head.get("key")),
    )
    return data_change(path, base_frame, head_frame, reading, base_path=base_path)


def row_key(key: object) -> tuple[str, ...]:
    """The head's `data.key` as column names (params.yaml has been validated)."""
    if isinstance(key, str):
        return (key,)
    return tuple(str(name) for name in key) if isinstance(key, list) else ()


def row_split_start(data: dict) -> int | None:
    """The 1-based data row where a row-number split starts current (data.split, or the
    deprecated data.current_start), None for any other split."""
    split = data.get("split")
    if split is None and "current_start" in data:
        split = split_from_current_start(data["current_start"])
    if isinstance(split, dict) and split.get("by") == "row" and is_number(split.get("start")):
        return int(split["start"])
    return None


def _drift_settings(raw: bytes | None) -> DriftConfig:
    """The head's drift thresholds (defaults when params.yaml lacks or breaks them)."""
    try:
        content = yaml.safe_load(raw or b"") or {}
        return DriftConfig.model_validate(content.get("drift") or {})
    except (yaml.YAMLError, ValidationError, AttributeError):
        return DriftConfig()


def code_changes(commit: str) -> list[str]:
    """Tracked pipeline code and definition files that differ between `commit` and the workspace."""
    result = runner.git("diff", "--name-only", commit, "--", *CODE, check=False)
    return sorted(line for line in result.stdout.splitlines() if line.strip())


def _metrics_order(metrics_diff: dict) -> dict[str, list[str]]:
    """Metric names of each workspace metrics file, in file order."""
    order = {}
    for file in metrics_diff:
        content = parse_json(workspace(file), file)
        if isinstance(content, dict):
            order[file] = list(flatten(content))
    return order


def write_images(folder: str, curves: dict, output: str) -> list[tuple[str, str]]:
    """ROC and precision-recall PNGs (needs matplotlib); (title, path relative to the report)."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel

        matplotlib.use("Agg")
        from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise KaizenError(
            "--images needs matplotlib, which is not installed (.venv/bin/pip install matplotlib)"
        ) from None
    specs = {"roc": ("fpr", "tpr", "ROC"), "precision_recall": ("recall", "precision", "PR")}
    out = []
    for kind, (x_name, y_name, title) in specs.items():
        figure, axes = pyplot.subplots(1, len(PARTS), figsize=(10, 4.5))
        for axis, part in zip(axes, PARTS):
            for side, points in zip(("base", "head"), curves.get((kind, part), (None, None))):
                if points:
                    frame = pd.DataFrame(points)
                    axis.plot(frame[x_name], frame[y_name], label=side, color=COLOURS[side])
            axis.set(title=f"{title}, {PARTS[part]}", xlabel=x_name, ylabel=y_name)
            axis.legend()
        path = Path(folder) / f"{kind}.png"
        with files.atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        pyplot.close(figure)
        out.append((title, os.path.relpath(path, Path(output).resolve().parent)))
    return out


def collect(commit: str, base: str, params_path: str = "params.yaml") -> R.Inputs:
    """Load every input of the report from the workspace and from `commit`."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        views = _dvc_views(pool, commit)  # slow: read the files meanwhile
        inputs = _read_files(commit, base, params_path)
        metrics_diff = json.loads(views[0].result() or "{}")
        inputs.metrics_diff = {k: v for k, v in metrics_diff.items() if isinstance(v, dict)}
        inputs.metrics_order = _metrics_order(inputs.metrics_diff)
        inputs.params_diff = json.loads(views[1].result() or "{}")
        inputs.dag = views[2].result().strip()
    return inputs


def _read_files(commit: str, base: str, params_path: str) -> R.Inputs:
    """Metrics, scores, curves, drift and raw data of both sides (everything but dvc's views)."""
    out = Outputs.from_dvc_yaml()
    evaluate = out.evaluate
    head_sha = runner.git("rev-parse", "--short", "HEAD", check=False).stdout.strip()
    inputs = R.Inputs(
        base_label=base,
        head_label="workspace",
        shas=(commit[:7], head_sha),
        base_metrics=parse_json(runner.file_at(commit, evaluate), f"{base}:{evaluate}"),
        head_metrics=parse_json(workspace(evaluate), evaluate),
        evaluate_file=evaluate,
        drift=parse_json(workspace(out.drift), out.drift),
        drift_features=parse_json(workspace(out.drift_features), out.drift_features),
        base_drift=parse_json(runner.file_at(commit, out.drift), f"{base}:{out.drift}"),
        data=raw_data_change(commit, params_path),
        code=code_changes(commit),
        scorecard=parse_json(workspace(out.scorecard), out.scorecard) if out.scorecard else None,
        scorecard_checks=_records(workspace(out.scorecard_checks) if out.scorecard else None),
        fairness=(
            (
                parse_json(runner.file_at(commit, out.fairness), f"{base}:{out.fairness}"),
                parse_json(workspace(out.fairness), out.fairness),
            )
            if out.fairness
            else (None, None)
        ),
    )
    base_full = full_scores(cached_output(commit, out.full_scores), f"{base}:{out.full_scores}")
    head_full = full_scores(workspace(out.full_scores), out.full_scores)
    for part in PARTS:
        path = out.scores.format(part=part)
        # Every row when the full copy exists, else the capped git copy (and the report says so).
        inputs.scores[part] = (
            base_full.get(part, parse_scores(runner.file_at(commit, path), f"{base}:{path}")),
            head_full.get(part, parse_scores(workspace(path), path)),
        )
        inputs.score_sources[part] = (
            "full" if part in base_full else "git",
            "full" if part in head_full else "git",
        )
        inputs.calibration[part] = parse_table(workspace(out.calibration.format(part=part)))
        for kind in KINDS:
            path = out.curve.format(kind=kind, part=part)
            pair = (
                parse_json(runner.file_at(commit, path), f"{base}:{path}"),
                parse_json(workspace(path), path),
            )
            inputs.curves[(kind, part)] = (
                pair[0][kind] if pair[0] else None,
                pair[1][kind] if pair[1] else None,
            )
    return inputs


def write_report(
    base: str,
    output: str,
    params_path: str = "params.yaml",
    images: str | None = None,
    cap: int = R.CAP,
) -> dict:
    """Build the report of the workspace against `base` and write it to `output` atomically."""
    commit = runner.resolve(base)
    settings = load_params(params_path).report if Path(params_path).is_file() else ReportConfig()
    inputs = collect(commit, base, params_path)
    inputs.cap = cap
    inputs.settings = settings
    if images:
        inputs.images = write_images(images, inputs.curves, output)
    text = R.build(inputs)
    files.write_text(text, output)
    return {"output": output, "characters": len(text), "base": base, "commit": commit[:7]}


def register(commands: argparse._SubParsersAction) -> None:
    """Add `report`."""
    cmd = commands.add_parser("report", help="pull-request report: workspace vs a base revision")
    cmd.add_argument("--base", default="main", help="git revision to compare with")
    cmd.add_argument("--output", default="report.md", help="markdown file to write")
    cmd.add_argument("--images", default=None, help="also write PNG charts here (matplotlib)")
    cmd.add_argument("--cap", type=int, default=R.CAP, help="maximum report characters")
    cmd.set_defaults(handler=report)


def report(args: argparse.Namespace) -> dict:
    """Write the pull-request report."""
    return write_report(args.base, args.output, args.params, args.images, args.cap)
