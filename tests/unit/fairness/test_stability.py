"""Reason-code stability: seeded, bounded, zero when every refit is the production model."""

import numpy as np

from kaizen.bundle.reasons import Explainer
from kaizen.fairness.stability import stability, top_reason
from kaizen.pipeline import model as M
from tests.unit.bundle.test_reasons import SCHEMA, training_frame
from tests.unit.helpers import log_every_step, make_params


def test_seeded_and_bounded():
    """Same seed, same figure; a share in [0, 1]; no refit, no figure."""
    frame = training_frame()
    config = make_params().train
    trained = M.train(frame, SCHEMA, config)
    explainer = Explainer(trained.pipeline, trained.reference)
    refused = frame.iloc[:30]
    first = stability(frame, refused, SCHEMA, config, explainer, 5, seed=3)
    assert first == stability(frame, refused, SCHEMA, config, explainer, 5, seed=3)
    assert 0 <= first["changed_share"] <= 1 and len(first["per_refit"]) == 5
    assert stability(frame, refused, SCHEMA, config, explainer, 0, 3)["changed_share"] is None


def test_refits_show_progress(monkeypatch, caplog):
    """Each bootstrap refit is a progress step (skipped refits included)."""
    frame = training_frame()
    config = make_params().train
    trained = M.train(frame, SCHEMA, config)
    explainer = Explainer(trained.pipeline, trained.reference)
    log_every_step(monkeypatch, caplog)
    stability(frame, frame.iloc[:30], SCHEMA, config, explainer, 2, seed=3)
    assert caplog.messages == [
        "reason-stability refits: 1/2 (50 %)",
        "reason-stability refits: 2/2 (100 %)",
    ]


def test_top_reason_is_the_largest_positive_contribution():
    """The top reason matches the explainer's first reason; '' when none is positive."""
    frame = training_frame()
    trained = M.train(frame, SCHEMA, make_params().train)
    explainer = Explainer(trained.pipeline, trained.reference)
    found = top_reason(explainer, frame[SCHEMA.features])
    values = explainer.contributions(frame[SCHEMA.features]).to_numpy()
    expected = np.where(values.max(axis=1) > 0, np.asarray(explainer.inputs)[values.argmax(1)], "")
    assert found.tolist() == expected.tolist()
