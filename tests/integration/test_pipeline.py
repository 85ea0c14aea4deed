"""`dvc repro` end to end on a slice of the data, in a temporary git + dvc repository."""

import hashlib
import json
import re
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from kaizen.config import TrainConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.metrics import cost_optimal_threshold
from kaizen.pipeline.model import cross_validate
from tests.integration.conftest import ROOT, SLICE_ROWS, Project, copy_project

pytestmark = pytest.mark.integration

PART_METRICS = (
    "rows",
    "positive_rate",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "gini",
    "ks",
    "average_precision",
    "brier",
    "log_loss",
    "precision",
    "recall",
    "f1",
    "tp",
    "fp",
    "tn",
    "fn",
    "cost",
    "bayes_cost",
    "calibration",
)
RAN = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)
SKIPPED = re.compile(r"^Stage '([^']+)' didn't change, skipping", re.MULTILINE)
VEGA_SPEC = re.compile(r"var spec = (.*);$", re.MULTILINE)


def pipeline(repo: Project) -> dict:
    """The project's dvc.yaml."""
    return yaml.safe_load((repo.path / "dvc.yaml").read_text(encoding="utf-8"))


def _names(entries: list) -> list[str]:
    """Paths of a dvc.yaml list whose items are `path` or `{path: options}`."""
    return [entry if isinstance(entry, str) else next(iter(entry)) for entry in entries]


def plots(repo: Project) -> dict[str, tuple[str, list[str]]]:
    """Top-level plots of dvc.yaml: id -> (title, data files)."""
    out = {}
    for entry in pipeline(repo)["plots"]:
        name, config = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        config = config or {}
        files = [name]
        for axis in ("x", "y"):
            if isinstance(config.get(axis), dict):
                files = list(config[axis])
        out[name] = (config.get("title", name), files)
    return out


def downstream(repo: Project, stage: str) -> set[str]:
    """`stage` and every stage that depends, directly or not, on its outputs."""
    stages = pipeline(repo)["stages"]
    found = {stage}
    changed = True
    while changed:
        produced = [path for name in found for path in _names(stages[name].get("outs", []))]
        grown = {
            name
            for name, config in stages.items()
            for dep in config.get("deps", [])
            if any(dep == path or dep.startswith(f"{path}/") for path in produced)
        }
        changed = not grown <= found
        found |= grown
    return found


def stage_report(output: str) -> tuple[set[str], set[str]]:
    """Stages that `dvc repro` ran and stages it skipped, from its output."""
    return set(RAN.findall(output)), set(SKIPPED.findall(output))


def write_applications(repo: Project, target: Path, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Raw rows of the test split, without the target (and `drop`), as a CSV of new applications."""
    rows = pd.read_csv(repo.path / "metrics/evaluate/scores/test.csv", index_col="row")
    raw = pd.read_csv(repo.path / "data/raw/credit_data.csv", dtype=str)
    raw.index = raw.index + 1  # 1-based data rows, as kept by ingest
    applications = raw.loc[rows.index].drop(columns=["Status", *drop])
    applications.to_csv(target, index=False)
    return rows


def predict(repo: Project, *args: str, check: bool = True):
    """`python -m kaizen predict` with the project's own code and model."""
    return repo.run(
        "env",
        "PYTHONPATH=src",
        "python",
        "-m",
        "kaizen",
        "predict",
        "--bundle",
        "models/bundle",
        *args,
        check=check,
    )


def _reject_constant(name: str):
    """json.loads hook: NaN/Infinity are not JSON."""
    raise ValueError(f"non-standard JSON constant {name}")


def assert_projection_is_the_model_pca(repo: Project) -> None:
    """The PCA plot's points are the test rows through the model's own 2-component PCA."""
    model = joblib.load(repo.path / "models/model.joblib")
    assert model.named_steps["pca"].n_components_ == 2
    schema = repo.json("data/ingest/schema.json")
    test = pd.read_parquet(repo.path / "data/prepare/test.parquet")
    expected = model[:-1].transform(test[schema["numeric"] + schema["categorical"]])
    labels = test[schema["target"]].to_numpy().astype(bool)
    folder = repo.path / "metrics/evaluate/plots/projection"
    for name, mask in (("positive", labels), ("negative", ~labels)):
        points = pd.read_csv(folder / f"{name}.csv")[["pc1", "pc2"]].to_numpy()
        np.testing.assert_allclose(points, expected[mask], atol=1e-5)


def test_repro_writes_every_output(ran, tmp_path):
    """A cold run writes model, metadata, metrics and every declared plot, and dvc shows them."""
    for relative in (
        "models/model.joblib",
        "metrics/ingest.json",
        "metrics/train.json",
        "metrics/evaluate/scores/test.csv",
        "metrics/evaluate/scores/current.csv",
    ):
        assert (ran.path / relative).is_file(), relative
    info = ran.json("models/model.json")
    assert info["schema"]["target"] == "Status"
    assert {"Income", "Amount"} <= set(info["schema"]["numeric"])
    assert {"Home", "Job"} <= set(info["schema"]["categorical"])
    train_bytes = (ran.path / "data/prepare/train.parquet").read_bytes()
    assert info["train_sha256"] == hashlib.sha256(train_bytes).hexdigest()
    assert {"python", "scikit-learn", "pandas", "numpy"} <= set(info["versions"])
    assert ran.json("metrics/ingest.json")["rows"] == SLICE_ROWS

    summary = ran.json("metrics/evaluate/metrics.json")
    assert 0 < summary["threshold"] <= 1
    assert summary["cv"]["folds"] == 5 and summary["cv"]["roc_auc_se"] > 0
    full = pd.read_parquet(ran.path / "data/evaluate/scores.parquet")
    for part in ("test", "current"):
        values = summary[part]
        assert set(PART_METRICS) <= set(values), part
        assert values["roc_auc_low"] <= values["roc_auc"] <= values["roc_auc_high"]
        assert 0.6 < values["roc_auc"] <= 1
        assert values["gini"] == pytest.approx(2 * values["roc_auc"] - 1, abs=1e-5)
        assert values["tp"] + values["fp"] + values["tn"] + values["fn"] == values["rows"]
        scores = pd.read_csv(ran.path / f"metrics/evaluate/scores/{part}.csv")
        assert len(scores) == values["rows"] == (full["part"] == part).sum()
        assert scores["score"].between(0, 1).all()
        calibration = values["calibration"]
        assert 0 <= calibration["hl_pvalue"] <= 1 and calibration["slope"] > 0

    declared = plots(ran)
    for _, files in declared.values():
        for relative in files:
            path = ran.path / relative
            assert path.is_file(), relative
            if path.suffix == ".json":
                text = path.read_text(encoding="utf-8")
                assert "Infinity" not in text and "NaN" not in text, relative
                json.loads(text, parse_constant=_reject_constant)

    ran.run("dvc", "plots", "show", "-o", str(tmp_path / "plots"))
    html = (tmp_path / "plots" / "index.html").read_text(encoding="utf-8")
    rendered = {}
    for spec in map(json.loads, VEGA_SPEC.findall(html)):
        title = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
        rendered[title] = spec["data"]["values"]
    assert len(rendered) == len(declared)
    for title, files in declared.values():
        assert rendered[title], title
        if len(files) > 1:  # dvc tags each row of a multi-file plot with its file name
            shown = {row["filename"] for row in rendered[title]}
            assert {Path(name).name for name in files} == shown, title
    assert "up to date" in ran.run("dvc", "status").stdout


def test_param_changes_rerun_only_downstream_stages(ran, tmp_path):
    """A train param (`dvc exp run -S`) reruns train and its dependents; evaluate's, evaluate."""
    repo = copy_project(ran, tmp_path / "repo")
    stages = set(pipeline(repo)["stages"])
    before = repo.json("metrics/evaluate/metrics.json")

    output = repo.run("dvc", "exp", "run", "-S", "train.pca.n_components=2").stdout
    rerun, skipped = stage_report(output)
    assert {"train", "evaluate"} <= rerun and {"ingest", "prepare"} <= skipped
    assert rerun == downstream(repo, "train") and skipped == stages - rerun
    assert repo.params()["train"]["pca"]["n_components"] == 2
    after_train = repo.json("metrics/evaluate/metrics.json")
    assert after_train["test"]["roc_auc"] != before["test"]["roc_auc"]
    assert 0.5 < after_train["test"]["roc_auc"] <= 1
    refs = repo.run("git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    assert len([ref for ref in refs if not ref.startswith("refs/exps/exec/")]) == 1  # recorded
    assert_projection_is_the_model_pca(repo)

    repo.set_params({"evaluate": {"cost_fn": 2.0}})
    rerun, skipped = stage_report(repo.run("dvc", "repro").stdout)
    # the threshold moves: the fairness figures at it, the card stating it, the bundle
    assert rerun == downstream(repo, "evaluate") == {"evaluate", "fairness", "card", "bundle"}
    assert skipped == stages - rerun
    after_evaluate = repo.json("metrics/evaluate/metrics.json")
    assert after_evaluate["test"]["roc_auc"] == after_train["test"]["roc_auc"]
    assert after_evaluate["cv"]["roc_auc"] == after_train["cv"]["roc_auc"]
    assert after_evaluate["cv"]["cost"] < after_train["cv"]["cost"]
    assert after_evaluate["bayes_threshold"] == pytest.approx(1 / 3, abs=1e-6)


def test_scoring_code_change_reruns_evaluate_and_drift(ran, tmp_path):
    """Editing the one scoring function (used by evaluate, drift and bundle, not by
    ingest/prepare) makes DVC list those stages as changed: their deps cover every module they
    import."""
    repo = copy_project(ran, tmp_path / "repo")
    assert not json.loads(repo.run("dvc", "status", "--json").stdout)
    scoring = repo.path / "src" / "kaizen" / "pipeline" / "scoring.py"
    text = scoring.read_text(encoding="utf-8")
    # Same scores (the last column of a binary predict_proba is the positive class), new code.
    edited = text.replace("predict_proba(encoded)[:, 1]", "predict_proba(encoded)[:, -1]")
    assert edited != text
    scoring.write_text(edited, encoding="utf-8")
    changed = set(json.loads(repo.run("dvc", "status", "--json").stdout))
    assert {"evaluate", "drift", "bundle"} <= changed
    assert not {"ingest", "prepare"} & changed


def test_cold_runs_are_identical(ran, tmp_path):
    """Rerunning every stage from the raw data reproduces metrics, scores, model and predictions."""
    again = copy_project(ran, tmp_path / "repo")
    rerun, _ = stage_report(again.run("dvc", "repro", "-f", "evaluate").stdout)
    assert rerun == {"ingest", "prepare", "train", "evaluate"}
    compared = [
        "metrics/ingest.json",
        "metrics/train.json",
        "metrics/evaluate/metrics.json",
        "models/model.json",
    ]
    compared += [
        str(path.relative_to(ran.path))
        for path in sorted((ran.path / "metrics/evaluate/scores").glob("*.csv"))
    ]
    assert len(compared) == 6
    for relative in compared:
        first = (ran.path / relative).read_bytes()
        assert first == (again.path / relative).read_bytes(), relative
    full = [pd.read_parquet(repo.path / "data/evaluate/scores.parquet") for repo in (ran, again)]
    pd.testing.assert_frame_equal(full[0], full[1])

    write_applications(ran, tmp_path / "new.csv")
    for repo, name in ((ran, "first.csv"), (again, "second.csv")):
        predict(repo, "--input", str(tmp_path / "new.csv"), "--output", str(tmp_path / name))
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "second.csv").read_bytes()


def test_fairness_and_card_rerun_identically(ran, tmp_path):
    """Forced reruns of fairness and card rewrite byte-identical files (seeded bootstrap and
    refits; the card holds no commit id): what .ci/repro-clean asks of every output."""
    again = copy_project(ran, tmp_path / "repo")
    for stage in ("fairness", "card"):
        again.run("dvc", "repro", "-f", "-s", stage)
    for relative in (
        "metrics/fairness/metrics.json",
        "metrics/fairness/report.json",
        "reports/model_card.json",
        "reports/model_card.md",
    ):
        assert (ran.path / relative).read_bytes() == (again.path / relative).read_bytes(), relative


def test_reported_test_cost_is_not_the_in_sample_minimum(ran):
    """The threshold is tuned on out-of-fold scores of the train split, so the test cost at it is
    above the minimum cost that tuning on the test rows themselves would have shown; the
    threshold is the train split's out-of-fold optimum, recomputed here from the data."""
    summary = ran.json("metrics/evaluate/metrics.json")
    test = pd.read_csv(ran.path / "metrics/evaluate/scores/test.csv")
    params = ran.params()["evaluate"]
    in_sample, minimum = cost_optimal_threshold(
        test["y"], test["score"], params["cost_fn"], params["cost_fp"]
    )
    assert summary["threshold"] != pytest.approx(in_sample, abs=1e-6)
    assert summary["test"]["cost"] > minimum + 1e-6
    info = ran.json("models/model.json")
    train = pd.read_parquet(ran.path / "data/prepare/train.parquet")
    config = TrainConfig.model_validate(info["params"])
    layout = Schema.from_dict(info["schema"])
    oof = cross_validate(train, layout, config, params["cv_folds"], params["seed"])
    optimal, _ = cost_optimal_threshold(
        oof["y"], oof["score"], params["cost_fn"], params["cost_fp"]
    )
    assert summary["threshold"] == pytest.approx(optimal, abs=1e-6)


def test_predict_scores_new_applications(ran, tmp_path):
    """`kaizen predict` scores raw rows like evaluate did; a missing column fails cleanly."""
    source, output = tmp_path / "new.csv", tmp_path / "scored.csv"
    expected = write_applications(ran, source)
    result = predict(ran, "--input", str(source), "--output", str(output), "--threshold", "0.3")
    assert json.loads(result.stdout)["rows"] == len(expected)
    scored = pd.read_csv(output)
    header = (ROOT / "data/raw/credit_data.csv").read_text(encoding="utf-8").splitlines()[0]
    inputs = [name for name in header.split(",") if name != "Status"]
    assert list(scored.columns) == inputs + ["score", "decision", "unseen"]
    assert scored["score"].between(0, 1).all()
    np.testing.assert_allclose(scored["score"], expected["score"], atol=2e-6)
    refused = scored["decision"] == "refuse"
    assert refused.equals(scored["score"] >= 0.3) and refused.any() and not refused.all()

    broken, missing = tmp_path / "broken.csv", tmp_path / "broken_scored.csv"
    write_applications(ran, broken, drop=("Income",))
    result = predict(ran, "--input", str(broken), "--output", str(missing), check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kaizen predict: error:")
    assert "Income" in lines[0] and "Traceback" not in result.stderr
    assert not missing.exists()


def test_a_failed_experiment_keeps_every_tracked_file(reproduced):
    """`dvc exp run` failing in ingest: the git-tracked metrics stay as they were (DVC removes an
    output before its stage runs unless it persists; the stages replace them only on success);
    only params.yaml keeps the experiment's edit: `git checkout params.yaml && dvc checkout` undo it
    (the second puts back the DVC-cached outputs the run removed)."""
    project = reproduced
    failed = project.run("dvc", "exp", "run", "-S", "data.target=Nope", check=False)
    assert failed.returncode != 0 and "target column 'Nope' not found" in failed.stderr
    assert project.run("git", "status", "--porcelain").stdout.splitlines() == [" M params.yaml"]
    project.run("git", "checkout", "params.yaml")
    project.run("dvc", "checkout")  # the DVC-cached outputs DVC removed before the stage ran
    assert project.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."
