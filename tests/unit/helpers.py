"""Tiny synthetic data, params and assertions shared by the unit tests."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from kaizen import progress
from kaizen.config import Params, parse_params
from kaizen.io.tables import read_raw
from kaizen.pipeline.data import ROW
from kaizen.stages import fairness

ROWS = 60
RATIOS = [
    {"name": "debt_to_income", "numerator": "Debt", "denominator": "Income"},
    {"name": "amount_to_price", "numerator": "Amount", "denominator": "Price"},
]
FAST = {
    "data": {
        "path": "data.csv",
        "target": "Status",
        "positive": "bad",
        "split": {"by": "share", "current": 0.3},
    },
    "train": {
        "features": {"ratios": RATIOS},
        "rf": {"n_estimators": 10},
        "hgb": {"max_iter": 10},
    },
    "evaluate": {"bootstrap": 20, "permutation_repeats": 1},
}


def merge(base: dict, update: dict) -> dict:
    """Deep-merge `update` into a deep copy of `base`."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        # A data.split (a tagged union: `by`) is replaced whole, never merged.
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "by" not in value:
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def credit_frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """A raw credit-like table whose target depends on debt/income and home."""
    rng = np.random.default_rng(seed)
    income = rng.integers(50, 300, rows).astype(float)
    debt = rng.integers(0, 100, rows).astype(float)
    debt[::7] = 0
    amount = rng.integers(200, 2000, rows)
    price = amount + rng.integers(1, 1000, rows)
    home = rng.choice(["rent", "owner", "other"], rows)
    signal = debt / income * 3 + (home == "rent") + rng.normal(0, 0.5, rows)
    status = np.where(signal > np.median(signal), "bad", "good")
    return pd.DataFrame(
        {
            "Status": status,
            "Income": income,
            "Debt": debt,
            "Amount": amount,
            "Price": price,
            "Home": home,
        }
    )


def write_csv(path: Path, frame: pd.DataFrame | None = None) -> Path:
    """Write `frame` (default: the synthetic credit table) as a CSV without index."""
    (credit_frame() if frame is None else frame).to_csv(path, index=False)
    return path


def params_dict(update: dict | None = None) -> dict:
    """The fast test params, deep-merged with `update`."""
    return merge(FAST, update or {})


def make_params(update: dict | None = None) -> Params:
    """Validated fast test params."""
    return parse_params(params_dict(update))


def write_params(path: Path, update: dict | None = None) -> Path:
    """Write the fast test params (merged with `update`) as YAML."""
    path.write_text(yaml.safe_dump(params_dict(update), sort_keys=False), encoding="utf-8")
    return path


def with_text_in(column: str, row: int, value: str) -> pd.DataFrame:
    """The synthetic table with one typo in a numeric column (row is 0-based)."""
    frame = credit_frame().astype(str)
    frame.loc[row, column] = value
    return frame


# The pipeline's bad-input list: each raw file and the fragments of its one-line error
# (data.target Status, data.positive bad). `ingest` and `kaizen data add` refuse each alike.
RAW_CASES = {
    "empty": ("", ["file is empty"]),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not a CSV file (binary content)"]),
    "one_column_text": ("Dear bank\nplease lend me money\n", ["not a CSV with separator ','"]),
    "duplicate_columns": ("Status,Income,Income\nbad,1,2\n", ["duplicate column name 'Income'"]),
    "missing_target": (
        credit_frame().drop(columns="Status"),
        ["target column 'Status' not found", "data.target"],
    ),
    "one_class_target": (
        credit_frame().assign(Status="good"),
        ["target 'Status' must have exactly 2 classes, found 1"],
    ),
    "no_positive_value": (
        credit_frame().replace({"Status": {"bad": "default"}}),
        ["target 'Status' has no value equal to data.positive='bad'"],
    ),
    "text_in_numeric": (
        with_text_in("Income", 9, "abc"),
        ["column 'Income' is numeric but holds text", "'abc' at data row 10"],
    ),
    "empty_column": (
        credit_frame().assign(Notes=""),
        ["column 'Notes' is empty in every row", "{Notes: drop}"],
    ),
}


def write_raw_case(path: Path, content: str | bytes | pd.DataFrame) -> Path:
    """Write one RAW_CASES content (a frame as CSV, bytes or text as they are) to `path`."""
    if isinstance(content, pd.DataFrame):
        write_csv(path, content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def edited_credit_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The embedded file (base) and a head that drops 300 rows above the default split row
    (data rows 1,001-1,300) and rescales Income by 1.1 from data row 3,001 on."""
    base = read_raw(Path(__file__).resolve().parents[2] / "data" / "raw" / "credit_data.csv")
    head = base.drop(index=range(1001, 1301))
    later = head.index >= 3001
    income = pd.to_numeric(head.loc[later, "Income"])
    head.loc[later, "Income"] = (
        (income * 1.1)
        .round()
        .map(lambda value: np.nan if np.isnan(value) else f"{value:.1f}")  # the file's own format
    )
    head.index = pd.RangeIndex(1, len(head) + 1, name=ROW)
    return base, head


def assert_one_line_error(err: str, *fragments: str) -> None:
    """stderr is exactly one `kaizen ...: error:` line holding every fragment, no traceback."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kaizen ") and ": error: " in lines[0], err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


class Artefacts(NamedTuple):
    """Paths of a tiny ingest -> prepare -> train run, all in one folder."""

    root: Path
    raw: Path
    params: Path
    reference: Path
    current: Path
    schema: Path
    ingest_metrics: Path
    train: Path
    test: Path
    model: Path
    info: Path
    train_metrics: Path

    @classmethod
    def under(cls, root: Path) -> "Artefacts":
        """The standard file names under `root`."""
        names = (
            "data.csv params.yaml reference.parquet current.parquet schema.json ingest.json "
            "train.parquet test.parquet model.joblib model.json train.json"
        )
        return cls(root, *(root / name for name in names.split()))

    def args(self, names: str) -> dict[str, str]:
        """The named paths as a stage's keyword arguments: args("model info") gives
        {"model": str(self.model), "info": str(self.info)}."""
        return {name: str(getattr(self, name)) for name in names.split()}


def run_fairness(params: Params, fitted: Artefacts, evaluated: Path, output: Path) -> None:
    """The fairness stage on the fitted pipeline and the evaluate outputs under `evaluated`
    (scores.parquet, evaluate/metrics.json), as dvc.yaml runs it."""
    fairness.run(
        params,
        **fitted.args("test current train schema model info"),
        scores=str(evaluated / "scores.parquet"),
        evaluation=str(evaluated / "evaluate" / "metrics.json"),
        output=str(output),
    )


def git_repo(path: Path, monkeypatch) -> Path:
    """`git init` (branch main) at `path`, made the working folder, with a test identity."""
    monkeypatch.chdir(path)
    for key in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{key}_NAME", "test")
        monkeypatch.setenv(f"GIT_{key}_EMAIL", "test@example.com")
    subprocess.run(["git", "init", "-q", "-b", "main"], check=True)
    return path


def scorecard_frame(
    rows: int = 2000, seed: int = 0, age_penalty: float = -0.2, tie: float = 0.5
) -> pd.DataFrame:
    """Features and a 0/1 target (`Status`) for scorecard tests: seniority lowers the default
    rate, Age is correlated with it (`tie`); `age_penalty` > 0 makes age raise the risk once
    seniority is known (the model then scores older applicants lower: Regulation B's age rule
    breaks).
    Income has missing values, Home a missing value and a rare level."""
    rng = np.random.default_rng(seed)
    seniority = rng.normal(0, 1, rows)
    age_z = tie * seniority + np.sqrt(1 - tie**2) * rng.normal(0, 1, rows)
    income = rng.lognormal(4.8, 0.4, rows)
    home = rng.choice(["owner", "rent", "parents"], rows, p=[0.5, 0.35, 0.15])
    logit = -1.0 - 0.5 * seniority + age_penalty * age_z - 0.8 * np.log(income / 120)
    logit = logit + np.where(home == "rent", 0.6, 0.0)
    status = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pd.DataFrame(
        {
            "Seniority": np.round(np.clip(8 + 5 * seniority, 0, None)),
            "Age": np.round(45 + 12 * age_z),
            "Income": np.round(income),
            "Debt": np.round(rng.exponential(200, rows)),
            "Home": pd.Series(home, dtype=object),
            "Status": status,
        }
    )
    frame.loc[rng.random(rows) < 0.05, "Income"] = np.nan
    frame.loc[3, "Home"] = np.nan
    return frame


SCORECARD_SCHEMA = {
    "target": "Status",
    "positive": "1",
    "numeric": ["Seniority", "Age", "Income", "Debt"],
    "categorical": ["Home"],
}


def log_every_step(monkeypatch, caplog) -> None:
    """Make `kaizen.progress` log a line per step (no terminal, no period) into `caplog`."""
    steps = progress.steps
    monkeypatch.setattr(
        progress,
        "steps",
        lambda items, total, label: steps(items, total, label, every=0, terminal=False),
    )
    caplog.set_level("INFO", logger="kaizen.progress")
