"""The one model pipeline: features -> outliers -> impute/encode/scale -> optional PCA -> model
(optionally recalibrated), its fit, and its cross-validation on the train split."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, RobustScaler, StandardScaler

from kaizen import KaizenError, __version__, progress
from kaizen.config import TrainConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.features import QuantileClipper, RatioFeatures, remove_outliers
from kaizen.pipeline import scorecard, scoring
from kaizen.pipeline.ratios import ratios_of, with_ratios

LIBRARIES = ("scikit-learn", "pandas", "numpy", "scipy", "pyarrow")
CALIBRATION_FOLDS = 5  # inner folds whose out-of-fold predictions fit `train.calibration`


def usable_ratios(schema: Schema, config: TrainConfig) -> tuple[list, list[str]]:
    """Ratios whose columns are numeric in this data, and the names of those skipped."""
    usable, skipped = [], []
    for ratio in config.features.ratios:
        if ratio.numerator in schema.numeric and ratio.denominator in schema.numeric:
            usable.append((ratio.name, ratio.numerator, ratio.denominator))
        else:
            skipped.append(ratio.name)
    return usable, skipped


def build_estimator(config: TrainConfig):
    """The classifier named by `train.model`, recalibrated when `train.calibration` asks.

    The calibrator (Platt's sigmoid on the classifier's decision function, or isotonic
    regression) is fitted on out-of-fold predictions of CALIBRATION_FOLDS inner folds, then the
    classifier is refitted on every row (scikit-learn's `CalibratedClassifierCV(ensemble=False)`);
    it is the pipeline's last step, so the saved model stays one Pipeline.
    """
    classifier = build_classifier(config)
    if config.calibration == "none":
        return classifier
    folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=config.seed)
    return CalibratedClassifierCV(classifier, method=config.calibration, cv=folds, ensemble=False)


def build_classifier(config: TrainConfig):
    """The classifier named by `train.model`, with its hyper-parameters."""
    if config.model == "logreg":
        return LogisticRegression(
            C=config.logreg.C,
            class_weight=config.logreg.class_weight,
            max_iter=config.logreg.max_iter,
            random_state=config.seed,
        )
    if config.model == "rf":
        return RandomForestClassifier(
            n_estimators=config.rf.n_estimators,
            max_depth=config.rf.max_depth,
            min_samples_leaf=config.rf.min_samples_leaf,
            max_features=config.rf.max_features,
            class_weight=config.rf.class_weight,
            random_state=config.seed,
            n_jobs=1,
        )
    return HistGradientBoostingClassifier(
        learning_rate=config.hgb.learning_rate,
        max_iter=config.hgb.max_iter,
        max_depth=config.hgb.max_depth,
        max_leaf_nodes=config.hgb.max_leaf_nodes,
        min_samples_leaf=config.hgb.min_samples_leaf,
        l2_regularization=config.hgb.l2_regularization,
        early_stopping=False,
        random_state=config.seed,
    )


def _scaler(kind: str):
    """The scaling step, or 'passthrough'."""
    return {"standard": StandardScaler(), "robust": RobustScaler()}.get(kind, "passthrough")


def encoder(config: TrainConfig) -> OneHotEncoder:
    """One-hot encoding; levels rarer than `min_frequency` share one "infrequent" column, at most
    `max_categories` columns per feature. An unseen level counts as infrequent when that column
    exists, else it encodes as all zeros."""
    categories = config.categories
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=categories.min_frequency,
        max_categories=categories.max_categories,
        sparse_output=False,
    )


def high_cardinality(frame: pd.DataFrame, columns: list[str], share: float) -> dict[str, int]:
    """Categorical columns whose distinct values exceed `share` of the rows, with their counts:
    an identifier or free text, which one-hot encoding turns into one column per value."""
    rows = max(len(frame), 1)
    counts = {name: int(frame[name].nunique()) for name in columns}
    return {name: count for name, count in counts.items() if count > share * rows}


def excluded_inputs(columns: tuple[str, ...], ratios: list) -> set[str]:
    """The model inputs `train.excluded` keeps out: its columns and the ratios using one (the
    pipeline still carries them; the preprocessing step drops them)."""
    out = set(columns)
    return out | {name for name, num, den in ratios if num in out or den in out}


def build_pipeline(schema: Schema, config: TrainConfig) -> tuple[Pipeline, list[str]]:
    """The unfitted pipeline for this schema and config, and the ratios it skipped."""
    ratios, skipped = usable_ratios(schema, config)
    out = excluded_inputs(config.excluded, ratios)
    numeric = [name for name in schema.numeric + [r for r, _, _ in ratios] if name not in out]
    categorical = [name for name in schema.categorical if name not in out]
    if config.model == "scorecard":  # binning -> points: no clipping, imputing or scaling
        binning, points = scorecard.build(numeric, categorical, config.scorecard, config.seed)
        steps = [("features", RatioFeatures(tuple(ratios))), ("prep", binning), ("model", points)]
        return Pipeline(steps), skipped
    clip = (
        QuantileClipper(config.outliers.lower, config.outliers.upper)
        if config.outliers.method == "clip"
        else "passthrough"
    )
    num = Pipeline(
        [
            ("clip", clip),
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", _scaler(config.scaling)),
        ]
    )
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("encode", encoder(config)),
        ]
    )
    prep = ColumnTransformer(
        [("num", num, numeric), ("cat", cat, categorical)],
        remainder="drop",
        verbose_feature_names_out=True,
    )
    steps = [("features", RatioFeatures(tuple(ratios))), ("prep", prep)]
    if config.pca.n_components is not None:
        steps.append(("pca", PCA(n_components=config.pca.n_components, random_state=config.seed)))
    steps.append(("model", build_estimator(config)))
    return Pipeline(steps), skipped


class Trained(NamedTuple):
    """A fitted pipeline, what training found out, and the reference that reason codes use."""

    pipeline: Pipeline
    skipped: list[str]
    facts: dict
    reference: dict


def train(frame: pd.DataFrame, schema: Schema, config: TrainConfig) -> Trained:
    """Fit the one pipeline on the train split (outlier rows removed first if params say so)."""
    frame, removed = remove_outliers(frame, schema, config.outliers)
    if config.calibration != "none" and len(frame):
        smallest = int(frame[schema.target].value_counts().reindex([0, 1], fill_value=0).min())
        if smallest < CALIBRATION_FOLDS:
            raise KaizenError(
                f"params.yaml: train.calibration: {config.calibration} recalibration fits on "
                f"{CALIBRATION_FOLDS} inner folds and needs at least {CALIBRATION_FOLDS} rows of "
                f"each class in the rows it trains on (the smaller class has {smallest}): more "
                "data, or train.calibration: none"
            )
    pipeline, skipped = build_pipeline(schema, config)
    started = time.perf_counter()
    try:
        pipeline.fit(frame[schema.features], frame[schema.target].to_numpy())
    except ValueError as exc:
        if "n_components" in str(exc):
            raise KaizenError(f"params.yaml: train.pca.n_components: {exc}") from None
        raise
    seconds = time.perf_counter() - started
    encoded = pipeline[:-1].transform(frame[schema.features].iloc[:1]).shape[1]
    facts = {
        "rows": len(frame),
        "outliers_removed": removed,
        "features_in": len(schema.features),
        "features_model": int(encoded),
        "high_cardinality": high_cardinality(
            frame, schema.categorical, config.categories.warn_share
        ),
        "fit_seconds": round(seconds, 3),
    }
    return Trained(pipeline, skipped, facts, reference_profile(pipeline, frame[schema.features]))


def typical(values: pd.Series, categorical: bool) -> str | float | None:
    """The most frequent category, or the median; None when every value is missing."""
    if values.isna().all():
        return None
    if categorical:
        return str(values.mode().iloc[0])
    return float(values.astype("float64").median())


def reference_profile(pipeline: Pipeline, features: pd.DataFrame) -> dict:
    """The average training applicant, for reason codes (`bundle.reasons`), from the fitted rows.

    `inputs`: per model input (raw columns and ratios) the median, or for a categorical column
    the most frequent value; `encoded_means`: the mean of each column the preprocessing step
    outputs (one-hot, missing indicators, scaled values), keyed by its name.
    """
    inputs = pipeline.named_steps["features"].transform(features)
    categorical = set(_categorical(pipeline))
    prep = pipeline.named_steps["prep"]
    if scorecard.is_scorecard(pipeline):  # its binning names the inputs it bins
        used = set(prep.features)
    else:
        used = {c for name, _, cols in prep.transformers_ if name != "remainder" for c in cols}
    values = {  # the model's inputs only: a column train.excluded keeps out is no input
        name: typical(inputs[name], name in categorical) for name in inputs.columns if name in used
    }
    encoded = prep.transform(inputs)
    means = dict(zip(prep.get_feature_names_out(), encoded.mean(axis=0).tolist()))
    return {"inputs": values, "encoded_means": means}


def known_categories(pipeline: Pipeline) -> dict[str, list[str]]:
    """Per categorical column, the values the fitted encoder knows (the imputer's fill value for
    missing cells left out): any other value is scored as an all-zero one-hot, i.e. unseen.
    A scorecard knows the categories of its bins (any other takes its "unseen" points)."""
    if scorecard.is_scorecard(pipeline):
        return scorecard.known_categories(pipeline)
    cat = pipeline.named_steps["prep"].named_transformers_["cat"]
    fill = cat.named_steps["impute"].fill_value
    onehot = cat.named_steps["encode"]
    return {
        str(name): [str(value) for value in values if value != fill]
        for name, values in zip(_categorical(pipeline), onehot.categories_)
    }


def _categorical(pipeline: Pipeline) -> list[str]:
    """The columns of the fitted preprocessing step's categorical branch."""
    if scorecard.is_scorecard(pipeline):
        return list(pipeline.named_steps["prep"].categorical)
    return next(
        list(cols) for name, _, cols in pipeline.named_steps["prep"].transformers_ if name == "cat"
    )


def cross_validate(
    frame: pd.DataFrame, schema: Schema, config: TrainConfig, folds: int, seed: int
) -> pd.DataFrame:
    """Out-of-fold scores of the train split: stratified, seeded `folds`-fold CV of exactly what
    `train` does (outlier removal, the pipeline, its calibration) on the other folds' rows.

    Returns a frame indexed like `frame` with the columns y, score and fold.
    """
    y_true = frame[schema.target].to_numpy()
    smallest = int(pd.Series(y_true).value_counts().min()) if len(frame) else 0
    if len(np.unique(y_true)) < 2 or smallest < folds:
        raise KaizenError(
            f"params.yaml: evaluate.cv_folds: {folds} folds need at least {folds} rows of each "
            f"class in the train split (the smaller class has {smallest})"
        )
    score = np.empty(len(frame))
    fold = np.empty(len(frame), dtype="int64")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    split = progress.steps(splitter.split(frame, y_true), folds, "cross-validation folds")
    for number, (fit_rows, held_rows) in enumerate(split):
        fitted = train(frame.iloc[fit_rows], schema, config).pipeline
        score[held_rows] = predict_scores(fitted, frame.iloc[held_rows][schema.features])
        fold[held_rows] = number
    return pd.DataFrame({"y": y_true, "score": score, "fold": fold}, index=frame.index)


def predict_scores(pipeline: Pipeline, features: pd.DataFrame) -> pd.Series:
    """Probability of the positive class, indexed like `features`: the bundle's one scoring path
    (`pipeline.scoring.score`), so that evaluation scores exactly as production does."""
    return pd.Series(scoring.score(pipeline, features), index=features.index, name="score")


def engineered(pipeline: Pipeline, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """`frame` with the fitted pipeline's engineered ratio columns appended, and their names
    (`ratios.with_ratios`)."""
    return with_ratios(frame, ratios_of(pipeline))


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the fitted model."""
    versions = {"python": platform.python_version(), "kaizen": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


IMPORTANCE_ROWS = 5000  # permutation importance on at most this many rows


def importance(
    pipeline: Pipeline, features: pd.DataFrame, y_true: np.ndarray, repeats: int, seed: int
) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) of each input column."""
    y_true = np.asarray(y_true)
    if len(features) > IMPORTANCE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(features), IMPORTANCE_ROWS, False))
        features, y_true = features.iloc[rows], y_true[rows]
    result = permutation_importance(
        pipeline, features, y_true, scoring="roc_auc", n_repeats=repeats, random_state=seed
    )
    table = pd.DataFrame(
        {
            "feature": features.columns,
            "importance": result.importances_mean.round(6),
            "std": result.importances_std.round(6),
        }
    )
    return table.sort_values("importance", ascending=False)


def projection(pipeline: Pipeline, features: pd.DataFrame, seed: int) -> np.ndarray:
    """2-D PCA projection of the preprocessed rows (the model's own PCA when it has 2 axes)."""
    steps = dict(pipeline.steps)
    if "pca" in steps and steps["pca"].n_components_ == 2:
        return pipeline[:-1].transform(features)
    prepared = pipeline[:2].transform(features)
    return PCA(n_components=2, random_state=seed).fit_transform(prepared)
