"""fairness: group figures at the production threshold per protected attribute and part, the
AIR screen, and reason-code stability over bootstrap refits (metrics/fairness/)."""

from __future__ import annotations

import pandas as pd

from kaizen.bundle import scoring
from kaizen.config import Params
from kaizen.fairness import rendering, report as R
from kaizen.fairness.groups import check_columns
from kaizen.fairness.stability import stability
from kaizen.io import files
from kaizen.pipeline.evaluation import fitted_with
from kaizen.pipeline.data import Schema

HELP = "fairness report: group figures, AIR screen, reason stability (--output folder)"
PATHS = ("scores", "test", "current", "train", "schema", "model", "info", "evaluation", "output")


def run(  # pylint: disable=too-many-arguments  # one keyword per path dvc.yaml passes
    params: Params,
    *,
    scores: str,
    test: str,
    current: str,
    train: str,
    schema: str,
    model: str,
    info: str,
    evaluation: str,
    output: str,
) -> dict:
    """Read the scores and parts, assess, write metrics.json, report.json, report.md, plots."""
    layout = Schema.from_dict(files.read_json(schema))
    config = params.fairness
    check_columns(layout.features, config, schema)
    loaded = scoring.load(model, info)
    metadata = files.read_json(info)
    all_scores = files.read_parquet(scores)
    frames = {"test": files.read_parquet(test), "current": files.read_parquet(current)}
    parts = {}
    for name, frame in frames.items():
        mine = all_scores.loc[all_scores["part"] == name].set_index("row")
        if len(mine):
            parts[name] = mine[["score", "y"]].join(frame[config.columns])
    threshold = float(files.read_json(evaluation)["threshold"])
    in_model = [c for c in layout.features if c not in fitted_with(metadata, info).excluded]
    found = R.assess(parts, threshold, config, in_model, source=test)
    refused = frames["test"].loc[parts["test"].index[parts["test"]["score"] >= threshold]]
    found["stability"] = stability(
        files.read_parquet(train),
        refused,
        layout,
        fitted_with(metadata, info),
        loaded.explainer,
        config.stability_refits,
        config.seed,
    )
    with files.atomic_dir(output) as tmp:
        files.write_json(R.metrics(found), tmp / "metrics.json")
        files.write_json(found, tmp / "report.json")
        files.write_text(rendering.markdown(found), tmp / "report.md")
        files.write_csv(R.plot_rows(found), tmp / "plots" / "approval.csv", index=False)
    return {"flagged": len(found["flagged"]), "stability": found["stability"]["changed_share"]}
