"""bundle: the one deployable folder (models/bundle/): the fitted pipeline, bundle.json (schema,
threshold and its rule, evaluated figures, reference profile, versions, hashes) and the test
split's scores. Production (serve, predict, monitor) reads nothing else."""

from __future__ import annotations

from kaizen.bundle import artifact, profile, scoring
from kaizen.config import MonitorParams, Params
from kaizen.io import files
from kaizen.pipeline import scorecard, scorecard_sql
from kaizen.pipeline.model import engineered

HELP = "the deployable bundle: model, bundle.json, test scores (--output folder)"
SQL = "scorecard.sql"  # the scorecard's score as one SQL expression (a scorecard model only)
PATHS = (
    "model",
    "info",
    "metrics",
    "calibration",
    "scores",
    "reference",
    "card",
    "card_json",
    "output",
)
CARD = ("model_card.md", "model_card.json")  # the card's two files, as the bundle names them


# pylint: disable-next=too-many-arguments,too-many-locals  # one keyword per path dvc.yaml passes
def run(
    params: Params,
    *,
    model: str,
    info: str,
    metrics: str,
    calibration: str,
    scores: str,
    reference: str,
    card: str,
    card_json: str,
    output: str,
) -> dict:
    """Verify the trained model, gather what production needs, write the folder atomically."""
    metadata = scoring.verify(model, info)
    loaded = scoring.unpickle(model, metadata)
    raw = files.read_parquet(reference)
    frame, ratios = engineered(loaded.pipeline, raw)
    test = files.read_parquet(scores)
    test = test.loc[test["part"] == "test", ["row", "score", "y"]].rename(columns={"y": "label"})
    document = artifact.describe(
        loaded,
        metadata,
        evaluated=files.read_json(metrics),
        setting=params.evaluate.threshold,
        test=test,
        calibration=files.read_records(calibration),
        profiled=profile.build(frame, loaded.schema.numeric + ratios, loaded.schema.categorical),
        monitoring=MonitorParams(
            evaluate=params.evaluate, drift=params.drift, monitor=params.monitor
        ).model_dump(mode="json"),
    )
    frames = {artifact.TEST_SCORES: test.reset_index(drop=True)}
    if params.bundle.reference_rows:
        sample = raw.sample(min(params.bundle.reference_rows, len(raw)), random_state=0)
        frames[artifact.REFERENCE_ROWS] = sample[loaded.schema.features].reset_index(drop=True)
    texts = {}
    if scorecard.is_scorecard(loaded.pipeline):  # the points as SQL, for scoring in a warehouse
        texts[SQL] = scorecard_sql.of_pipeline(loaded.pipeline)
    with files.atomic_dir(output) as tmp:
        artifact.save(
            tmp,
            model,
            document,
            frames,
            texts=texts,
            copies={CARD[0]: card, CARD[1]: card_json},
        )
    return {
        "version": loaded.version,
        "threshold": document["threshold"].value,
        "rule": document["threshold"].rule,
        "features_profiled": len(document["profile"]),
        "reference_rows": len(frames.get(artifact.REFERENCE_ROWS, [])),
        "sql": bool(texts),
    }
