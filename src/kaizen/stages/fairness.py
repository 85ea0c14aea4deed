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


def _parts(scores: pd.DataFrame, frames: dict, columns: list[str]) -> dict[str, pd.DataFrame]:
    """Per scored part: score, y and the protected columns, by data row."""
    return {
        name: scores.loc[scores["part"] == name]
        .set_index("row")[["score", "y"]]
        .join(frame[columns])
        for name, frame in frames.items()
        if (scores["part"] == name).any()
    }


def run(  # pylint: disable=too-many-arguments,too-many-locals  # a keyword per dvc.yaml path
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
    config = check_columns(layout.features, params.fairness, schema)
    metadata = scoring.verify(model, info)
    fitted = fitted_with(metadata, info)
    frames = {"test": files.read_parquet(test), "current": files.read_parquet(current)}
    parts = _parts(files.read_parquet(scores), frames, config.columns)
    threshold = float(files.read_json(evaluation)["threshold"])
    in_model = [c for c in layout.features if c not in fitted.excluded]
    found = R.assess(parts, threshold, config, in_model, source=test)
    refused = parts["test"].index[parts["test"]["score"] >= threshold]
    found["stability"] = stability(
        files.read_parquet(train),
        frames["test"].loc[refused],
        layout,
        fitted,
        scoring.unpickle(model, metadata).explainer,
        config.stability_refits,
        config.seed,
    )
    with files.atomic_dir(output) as tmp:
        files.write_json(R.metrics(found), tmp / "metrics.json")
        files.write_json(found, tmp / "report.json")
        files.write_text(rendering.markdown(found), tmp / "report.md")
        files.write_csv(R.plot_rows(found), tmp / "plots" / "approval.csv", index=False)
    return {"flagged": len(found["flagged"]), "stability": found["stability"]["changed_share"]}
