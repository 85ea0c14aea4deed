"""The bundle stage: one folder, opt-in reference rows, scores scored by the one path."""

import numpy as np
import pandas as pd

from kaizen.bundle import artifact
from kaizen.io import files
from kaizen.stages import bundle
from tests.unit.helpers import make_params


def test_test_scores_are_the_bundle_models_scores(bundled, fitted):
    """The stored test scores are what the bundled model scores on the test split."""
    loaded = artifact.load(bundled)
    test = files.read_parquet(fitted.test)
    scores = loaded.test_scores()
    expected = loaded.model.scores(test[loaded.model.schema.features])
    np.testing.assert_array_equal(np.sort(scores["score"]), np.sort(expected))


def test_reference_rows_only_when_asked(bundled, fitted, tmp_path):
    """Applicant rows go into the bundle only with bundle.reference_rows."""
    evaluated = bundled.parent / "evaluate"
    result = bundle.run(
        make_params({"bundle": {"reference_rows": 25}}),
        model=str(fitted.model),
        info=str(fitted.info),
        metrics=str(evaluated / "metrics.json"),
        calibration=str(evaluated / "plots" / "calibration" / "test.csv"),
        scores=str(bundled.parent / "scores.parquet"),
        reference=str(fitted.reference),
        output=str(tmp_path / "bundle"),
    )
    assert result["reference_rows"] == 25
    loaded = artifact.load(tmp_path / "bundle")
    rows = pd.read_parquet(tmp_path / "bundle" / artifact.REFERENCE_ROWS)
    assert len(rows) == 25 and list(rows.columns) == loaded.model.schema.features
    assert not (bundled / artifact.REFERENCE_ROWS).exists()
