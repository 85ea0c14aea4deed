"""`kaizen.sketches.spark.profile` in Spark local mode (the `.[spark]` extra, Java 17): the
profile of a DataFrame over several partitions is the event store's profile of the same rows
(exact counts equal, every sketch over the same values) and judges drift as the rows do."""

from __future__ import annotations


import numpy as np
import pytest

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.drift import verdicts
from kaizen.pipeline.model import engineered
from kaizen.sketches import profile as P
from tests.extras import require
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import  # fixtures
    fixture_bundled,
    fixture_fitted,
)
from tests.unit.helpers import credit_frame, make_params

pytestmark = pytest.mark.integration
require("pyspark")
ROWS = 20_000


def test_spark_profile_is_the_store_profile(spark, bundled):
    """Four partitions of 20,000 scored applications: events, missing, level and decision
    counts equal the pandas profile's; each sketch holds every value; drift from it has the
    rows' verdicts, PSI within 0.005."""
    from kaizen.sketches import spark as S  # pylint: disable=import-outside-toplevel

    bundle = artifact.load(bundled)
    model = bundle.model
    base = credit_frame()[model.schema.features]
    rows = base.iloc[np.random.default_rng(0).integers(0, len(base), ROWS)].reset_index(drop=True)
    rows["score"] = model.scores(rows)
    rows["decision"] = np.where(rows["score"] >= bundle.threshold, "refuse", "accept")
    made = S.profile(spark.createDataFrame(rows).repartition(4), bundled, k=1000)
    numeric, categorical = S.columns(bundle)
    frame, _ = engineered(model.pipeline, rows)
    local = P.build(frame, numeric, categorical, 1000)
    assert made.events == local.events == ROWS
    assert made.missing == local.missing and made.categorical == local.categorical
    assert made.decisions == local.decisions
    assert {n: s.n for n, s in made.numeric.items()} == {n: s.n for n, s in local.numeric.items()}
    reference = credit_frame()
    reference, _ = engineered(model.pipeline, reference)
    config = make_params().drift
    exact = verdicts.analyse(reference, frame, numeric, categorical, config)
    sketched = verdicts.analyse(reference, made.summary(), numeric, categorical, config)
    assert sketched.verdict == exact.verdict
    one = {item.feature: item for item in exact.features}
    for item in sketched.features:
        assert item.verdict == one[item.feature].verdict, item.feature
        if item.psi is not None:
            assert abs(item.psi - one[item.feature].psi) <= 0.005, item.feature


def test_spark_profile_refuses_a_frame_without_the_model_columns(spark, bundled):
    """A column the model needs is missing: one line naming it."""
    from kaizen.sketches import spark as S  # pylint: disable=import-outside-toplevel

    df = spark.createDataFrame(credit_frame().drop(columns=["Income"]))
    with pytest.raises(KaizenError, match="^DataFrame: missing column.*Income"):
        S.profile(df, bundled)
