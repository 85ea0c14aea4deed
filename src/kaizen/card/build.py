"""The model card's content, from what the pipeline measured and what params state.

Sections (each must be non-empty: the JSON schema and a test say so): identity, intended use,
data, method, performance, fairness, explainability, limitations, monitoring, change log.
Nothing here is a hand-written figure: every number comes from a stage's output, the team's
own words only from `params.yaml`'s `model_card` section.

The card holds no git commit of its own: it is committed with dvc.lock, and a commit id inside
it would change at every commit and break the byte-identical reproduction of the pipeline's
outputs (.ci/repro-clean). The model version, data, params and training-split hashes identify
what the card describes; the change log names the fixed base revision it compares against.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, NamedTuple

from kaizen import KaizenError
from kaizen.config import Params

ACCEPTED_ONLY = (
    "The data holds accepted applications only (outcomes exist only for granted loans): the "
    "model learned default among applicants a past policy accepted, and its figures hold for "
    "that population. Applicants that policy refused are not represented (no reject inference)."
)
PERFORMANCE = ("roc_auc", "gini", "ks", "average_precision", "brier", "precision", "recall", "cost")


class Sources(NamedTuple):
    """Everything the card is built from (read by the card stage)."""

    params: Params
    model: dict[str, Any]  # models/model.json
    data_sha256: str
    ingest: dict[str, Any]
    training: dict[str, Any]
    evaluation: dict[str, Any]
    importance: list[dict[str, Any]]
    coefficients: dict[str, float]  # encoded column -> coefficient (linear models), else {}
    drift: dict[str, Any]
    fairness: dict[str, Any]
    scorecard: list[dict[str, Any]] | None  # metrics/train/scorecard.csv when it exists
    base: dict[str, Any]  # the base revision: commit, params and evaluation there (or a reason)


def digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def identity(src: Sources) -> dict[str, Any]:
    """Model version and the hashes of what made it."""
    versions = src.model.get("versions", {})
    return {
        "model_version": src.model["model_sha256"][:12],
        "model_sha256": src.model["model_sha256"],
        "kaizen_version": versions.get("kaizen", "unknown"),
        "data_path": src.params.data.path,
        "data_sha256": src.data_sha256,
        "train_split_sha256": src.model["train_sha256"],
        "params_sha256": digest(src.params.model_dump(mode="json")),
        "libraries": versions,
    }


def _rate(part: dict[str, Any]) -> str:
    """A part's default rate as a percentage; what is missing when it has none."""
    rate = part.get("positive_rate")
    if rate is None:
        return "none (no rows)" if not part.get("rows") else "unknown (no labels)"
    return f"{rate:.1%}"


def data(src: Sources) -> dict[str, Any]:
    """Windows, target, sample, exclusions, protected attributes."""
    params = src.params
    split = params.data.split.model_dump(mode="json")
    dropped = [c for c, kind in params.data.columns.items() if kind == "drop"]
    excluded = list(params.train.excluded)
    return {
        "windows": {
            "split": split,
            "reference_rows": src.ingest["reference"]["rows"],
            "current_rows": src.ingest["current"]["rows"],
            "test_size": params.prepare.test_size,
            "train_rows": src.training.get("rows"),
        },
        "target": (
            f"{params.data.target} == {params.data.positive!r} (default); reference default "
            f"rate {_rate(src.ingest['reference'])}, current {_rate(src.ingest['current'])}"
        ),
        "sample": ACCEPTED_ONLY,
        "exclusions": {
            "duplicates_dropped": src.ingest["reference"].get("duplicates_dropped", 0)
            + src.ingest["current"].get("duplicates_dropped", 0),
            "columns_dropped": dropped,
            "outliers": params.train.outliers.model_dump(mode="json"),
            "outliers_removed": src.training.get("outliers_removed", 0),
            "kept_out_of_model": excluded,
        },
        "protected": [
            {
                "column": spec.column,
                "groups": spec.bands or "one per category",
                "handling": (
                    "excluded from the model's features; carried for the fairness analysis; "
                    "never a reason code"
                    if spec.column in excluded
                    else "USED BY THE MODEL (train.exclude_protected: false); never a reason code"
                ),
            }
            for spec in params.fairness.protected
        ],
    }


def method(src: Sources) -> dict[str, Any]:
    """Model family, settings, features with coefficients or importances, scorecard points."""
    train = src.params.train
    out: dict[str, Any] = {
        "model": train.model,
        "settings": (
            getattr(train, train.model).model_dump(mode="json")
            if hasattr(train, train.model)
            else {}
        ),
        "calibration": train.calibration,
        "scaling": train.scaling,
        "features": list(src.importance),
        "threshold": {
            "value": src.evaluation["threshold"],
            "rule": str(src.params.evaluate.threshold),
            "cost_fn": src.params.evaluate.cost_fn,
            "cost_fp": src.params.evaluate.cost_fp,
        },
    }
    if src.coefficients:
        out["coefficients"] = src.coefficients
    # The points table when the model is a scorecard (metrics/train/scorecard.csv); otherwise that
    # file is the benchmark fitted beside the model, reported in the PR report, not this method.
    points = src.scorecard if train.model == "scorecard" else None
    out["scorecard"] = None if points is None else [_finite(row) for row in points]
    return out


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """A table row for JSON: an open bin bound (+-inf) or a NaN becomes None."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in row.items()
    }


def performance(src: Sources) -> dict[str, Any]:
    """Cross-validated, test (in-time) and current (out-of-time) figures with intervals."""
    out: dict[str, Any] = {"cv": src.evaluation.get("cv", {})}
    for part in ("test", "current"):
        found = src.evaluation.get(part)
        if not found:
            continue
        row = {k: found[k] for k in PERFORMANCE if k in found}
        row.update({k: found[k] for k in ("rows", "roc_auc_low", "roc_auc_high") if k in found})
        row["calibration"] = found.get("calibration", {})
        out[part] = row
    return out


def explainability(src: Sources) -> dict[str, Any]:
    """How reasons are computed and how stable they are."""
    stability = src.fairness.get("stability", {})
    exact = stability.get("method") == "logit"
    return {
        "method": (
            "exact log-odds contributions against the average training applicant"
            if exact
            else "one-feature-at-a-time replacement by the training reference value"
        ),
        "never_cited": src.model.get("reference", {}).get("protected", []),
        "stability": stability,
    }


def limitations(src: Sources) -> list[str]:
    """What the pipeline measured that limits the model, then the team's own items."""
    out = [ACCEPTED_ONLY]
    fair = src.fairness
    if fair.get("flagged"):
        out.append(f"Adverse impact screen flags: {', '.join(fair['flagged'])} (review needed).")
    small = [
        f"{column} {group} ({part}, n={row['n']})"
        for column, found in fair.get("attributes", {}).items()
        for part, result in found["parts"].items()
        for group, row in result["groups"].items()
        if not row["judged"]
    ]
    if small:
        out.append(f"Groups too small to judge: {', '.join(small)}.")
    if fair.get("protected_in_model"):
        out.append(f"Protected attributes used by the model: {fair['protected_in_model']}.")
    alert = src.params.drift.psi_alert
    drifted = [k for k, v in src.drift.get("psi", {}).items() if v is not None and v >= alert]
    out.append(
        f"Drift reference vs current: verdict {src.drift.get('verdict', 'unknown')}"
        + (f"; PSI over the alert level: {', '.join(drifted)}" if drifted else "")
        + "."
    )
    calibration = src.evaluation.get("test", {}).get("calibration", {})
    hl_p = calibration.get("hl_pvalue")
    if hl_p is not None and hl_p < src.params.report.calibration_alpha:
        out.append(
            f"Calibration on test fails Hosmer-Lemeshow (p = {hl_p:.3f}): "
            "read scores as a ranking more than as exact probabilities."
        )
    return out + list(src.params.model_card.limitations if src.params.model_card else [])


def monitoring(src: Sources) -> dict[str, Any]:
    """The monitor's signals and thresholds, as the bundle carries them."""
    return {
        "signals": src.params.monitor.model_dump(mode="json"),
        "drift": src.params.drift.model_dump(mode="json"),
        "command": "kaizen monitor (production events vs the bundle's reference)",
    }


def change_log(src: Sources) -> dict[str, Any]:
    """Params and headline figures changed since the base revision."""
    base = src.base
    if "params" not in base:
        return {"base": base.get("revision", "none"), "note": base.get("note", "no base")}
    now, before = _flat(src.params.model_dump(mode="json")), _flat(base["params"])
    changed = {
        key: {"base": before.get(key), "now": value}
        for key, value in now.items()
        if before.get(key) != value
    }
    figures = {}
    for part in ("test", "current"):
        for key in ("roc_auc", "cost", "brier"):
            old = base.get("evaluation", {}).get(part, {}).get(key)
            new = src.evaluation.get(part, {}).get(key)
            if old is not None and new is not None:
                figures[f"{part}.{key}"] = {"base": old, "now": new, "delta": round(new - old, 6)}
    return {
        "base": base["revision"],
        "commit": base["commit"],
        "params": changed,
        "figures": figures,
    }


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys."""
    out: dict[str, Any] = {}
    for key, inner in value.items():
        name = f"{prefix}{key}"
        out.update(_flat(inner, f"{name}.") if isinstance(inner, dict) and inner else {name: inner})
    return out


def build(src: Sources) -> dict[str, Any]:
    """The whole card."""
    card = src.params.model_card
    return {
        "identity": identity(src),
        "intended_use": {
            "owner": card.owner if card else "",
            "intended": card.intended_use if card else "",
            "out_of_scope": list(card.out_of_scope) if card else [],
        },
        "data": data(src),
        "method": method(src),
        "performance": performance(src),
        "fairness": src.fairness,
        "explainability": explainability(src),
        "limitations": limitations(src),
        "monitoring": monitoring(src),
        "change_log": change_log(src),
    }


def coefficients(pipeline: Any) -> dict[str, float]:
    """Per encoded column, a linear model's coefficient (log-odds per unit); {} for any other
    model, a PCA-rotated one or a recalibrated one (its coefficients are not the score's)."""
    estimator = pipeline.steps[-1][1]
    if not hasattr(estimator, "coef_") or "pca" in pipeline.named_steps:
        return {}
    names = pipeline.named_steps["prep"].get_feature_names_out()
    return {str(n): round(float(c), 6) for n, c in zip(names, estimator.coef_[0])}


def base_revision(revision: str | None, commit: str | None, params: Any, evaluation: Any) -> dict:
    """What the change log compares against: the base's params (validated when they still
    parse, else as written) and evaluate metrics, or a note saying why there is none."""
    if revision is None:
        return {"revision": "none", "note": "model_card.base is not set"}
    if commit is None:
        return {"revision": revision, "note": "revision not found in this clone"}
    if not isinstance(params, dict):
        return {"revision": revision, "note": "no params.yaml at that revision"}
    try:
        # pylint: disable-next=import-outside-toplevel  # only here: config imports this package
        from kaizen.config import parse_params

        found = parse_params(params).model_dump(mode="json")
    except Exception:  # pylint: disable=broad-exception-caught  # an older params layout
        found = params
    return {
        "revision": revision,
        "commit": commit,
        "params": found,
        "evaluation": evaluation if isinstance(evaluation, dict) else {},
    }


def validate(card: dict[str, Any], schema: dict[str, Any], source: str) -> None:
    """One-line error naming the first place the card breaks its JSON schema."""
    # pylint: disable-next=import-outside-toplevel
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(card), key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(p) for p in errors[0].path) or "card"
        raise KaizenError(f"{source}: {where}: {errors[0].message} (model card schema)")
