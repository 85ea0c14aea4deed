"""MLflow's view of a run, pure parts: keys, params, metrics, tags, the model signature."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kaizen.pipeline import model
from kaizen.experiments import tracking
from kaizen.pipeline.data import Schema, coerce_features
from tests.unit.helpers import credit_frame, make_params
from tests.extras import require


def test_key_replaces_what_mlflow_refuses():
    """Letters, digits, `_ . -` and spaces stay; anything else (`/` too: no paths) becomes `_`."""
    assert tracking.key("drift.psi.Debt ratio-2") == "drift.psi.Debt ratio-2"
    assert tracking.key("psi.a/../b") == "psi.a_.._b"
    assert tracking.key("psi.a%b:c(d)") == "psi.a_b_c_d_"


def test_run_params_are_flat_strings():
    """Nested params flatten to dotted keys (an empty mapping to none); lists and None as JSON;
    long values cut."""
    params = {
        "train": {"model": "logreg", "logreg": {"C": 1.0, "class_weight": None}},
        "data": {"missing_values": [99, "?"], "columns": {}},
        "long": "x" * 7000,
    }
    assert tracking.run_params(params) == {
        "train.model": "logreg",
        "train.logreg.C": "1.0",
        "train.logreg.class_weight": "null",
        "data.missing_values": '[99, "?"]',
        "long": "x" * tracking.MAX_PARAM_LENGTH,
    }


def test_run_metrics_split_numbers_and_text():
    """Finite numbers become `<stage>.<key>` metrics, strings text; NaN and lists are dropped."""
    values = {
        "verdict": "warning",
        "rows": 10,
        "psi": {"Age": 0.1, "Bad(col)": 0.2},
        "nan": math.nan,
        "list": [1, 2],
    }
    numbers, texts = tracking.run_metrics("drift", values)
    assert numbers == {"drift.rows": 10.0, "drift.psi.Age": 0.1, "drift.psi.Bad_col_": 0.2}
    assert texts == {"drift.verdict": "warning"}


def test_experiment_metrics_use_the_run_names():
    """`dvc exp show` keys `FILE:key` map to `<stage>.key`; undeclared files are left out."""
    stages = {"metrics/evaluate/metrics.json": "evaluate"}
    values = {
        "metrics/evaluate/metrics.json:test.roc_auc": 0.8,
        "metrics/evaluate/metrics.json:test.note": "text",
        "other.json:rows": 3,
    }
    assert tracking.experiment_metrics(values, stages) == {"evaluate.test.roc_auc": 0.8}


def test_run_tags_tie_the_run_to_git_and_dvc():
    """Commit (also MLflow's own git tag), dvc.lock hash, training-data hash, versions."""
    info = {"train_sha256": "t" * 64, "params": {"model": "hgb"}}
    tags = tracking.run_tags("c" * 40, "d" * 64, info, "0.1.0")
    assert tags == {
        tracking.COMMIT: "c" * 40,
        "mlflow.source.git.commit": "c" * 40,
        "kaizen.dvc_lock_sha256": "d" * 64,
        "kaizen.train_sha256": "t" * 64,
        "kaizen.version": "0.1.0",
        "kaizen.pipeline.model": "hgb",
    }


def test_model_signature_from_the_saved_schema():
    """Numeric columns are doubles, categorical strings, all required; output: 2 probabilities.

    The signature accepts missing values and rejects a frame without a schema column.
    """
    require("mlflow")
    from mlflow.models.utils import _enforce_schema  # pylint: disable=import-outside-toplevel

    schema = Schema("Status", "bad", ["Income", "Debt"], ["Home"])
    signature = tracking.model_signature(schema)
    inputs = signature.inputs.to_dict()
    assert [(c["name"], c["type"], c["required"]) for c in inputs] == [
        ("Income", "double", True),
        ("Debt", "double", True),
        ("Home", "string", True),
    ]
    assert signature.outputs.to_dict()[0]["tensor-spec"] == {"dtype": "float64", "shape": (-1, 2)}
    frame = pd.DataFrame({"Income": [1.0, np.nan], "Debt": [2.0, 3.0], "Home": ["rent", None]})
    assert len(_enforce_schema(frame, signature.inputs)) == 2
    try:
        _enforce_schema(frame.drop(columns="Home"), signature.inputs)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        assert "missing inputs ['Home']" in str(exc)
    else:
        raise AssertionError("a frame without Home was accepted")


def fitted_with_missing_categories() -> tuple:
    """(pipeline, schema, raw frame): a model fitted on data where Home is sometimes missing."""
    raw = credit_frame(seed=3)
    raw.loc[raw.index % 5 == 0, "Home"] = np.nan
    schema = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
    frame = coerce_features(raw, schema, "train").assign(Status=(raw["Status"] == "bad") * 1)
    return model.train(frame, schema, make_params().train).pipeline, schema, raw


def test_served_model_reads_inputs_as_kaizen_predict():
    """A one-row request with a null category (Python None, as MLflow's server passes it), text
    numbers and padded categories scores as `kaizen predict` scores the typed row; the bare
    pipeline, too, reads that None as missing (its first step writes it NaN)."""
    pipeline, schema, raw = fitted_with_missing_categories()
    served = tracking.served_model(pipeline, schema)
    request = raw.head(1).astype(object).assign(Home=None)
    request[schema.numeric] = request[schema.numeric].astype(str)
    typed = coerce_features(request, schema, "request")
    assert typed["Home"].isna().all()
    expected = model.predict_scores(pipeline, typed).to_numpy()
    np.testing.assert_array_equal(served.predict_proba(request)[:, 1], expected)
    bare = pipeline.predict_proba(request.assign(**typed[schema.numeric]))[:, 1]
    np.testing.assert_array_equal(bare, expected)
    row = raw.loc[[1]].astype(object)
    padded = row.assign(Home=f" {row['Home'].iloc[0]} ")
    np.testing.assert_array_equal(served.predict_proba(padded), served.predict_proba(row))
