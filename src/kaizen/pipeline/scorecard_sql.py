"""The scorecard as one SQL expression (`models/bundle/scorecard.sql`): a `CASE` per feature
giving its points, summed, for a warehouse that scores in SQL (SQLite, DuckDB, PostgreSQL).

Exactness: each branch gives the points in whole units of 10^-decimals, so the sum is an
exact integer in any engine, divided once by the unit (one IEEE division, as in Python).
Split points are written as double literals (`2.55e1`, so DuckDB does not read a DECIMAL), and
engineered ratios are recomputed as the pipeline does (NULL when the denominator is 0 or
missing). The bins are the points table's (`scorecard.table`), in its order.
"""

from __future__ import annotations

import math

import pandas as pd

from kaizen.pipeline import scorecard as S


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def number(value: float) -> str:
    """A double literal that reads back as exactly `value` (exponent form: never DECIMAL)."""
    written = repr(float(value))
    return written if "e" in written else f"{written}e0"


def column(name: str, ratios: dict[str, tuple[str, str]]) -> str:
    """The SQL of a model input: its column, or its ratio recomputed."""
    if name not in ratios:
        return quote(name)
    numerator, denominator = (quote(part) for part in ratios[name])
    return (
        f"(CASE WHEN {denominator} <> 0 THEN CAST({numerator} AS DOUBLE) / "
        f"CAST({denominator} AS DOUBLE) END)"
    )


def units(points: float, unit: int) -> int:
    """Points as whole units."""
    return int(round(points * unit))


def feature_case(  # pylint: disable=too-many-arguments  # one bin table, how to read it
    *, name: str, bins: pd.DataFrame, ratios: dict, special: tuple, unit: int, categorical: bool
) -> str:
    """`CASE ... END` giving one feature's points in units."""
    by_kind = dict(list(bins.groupby("kind")))
    value = column(name, ratios)
    branches = [f"WHEN {value} IS NULL THEN {units(S.single_points(by_kind, S.MISSING), unit)}"]
    regular = by_kind[S.REGULAR].sort_values("index")
    if categorical:
        for row in regular.itertuples():
            listed = ", ".join(text(item) for item in str(row.categories).split("|"))
            branches.append(f"WHEN {value} IN ({listed}) THEN {units(row.points, unit)}")
        otherwise = units(S.single_points(by_kind, S.UNKNOWN), unit)
    else:
        if special:
            codes = ", ".join(number(code) for code in special)
            points = units(S.single_points(by_kind, S.SPECIAL), unit)
            branches.append(f"WHEN {value} IN ({codes}) THEN {points}")
        for row in regular.itertuples():
            if math.isinf(row.upper):
                break
            branches.append(f"WHEN {value} < {number(row.upper)} THEN {units(row.points, unit)}")
        otherwise = units(regular["points"].iloc[-1], unit)
    body = "\n".join(f"    {branch}" for branch in branches)
    return f"  -- {name}\n  (CASE\n{body}\n    ELSE {otherwise}\n  END)"


def expression(  # pylint: disable=too-many-arguments  # the table and how it was scaled
    points: pd.DataFrame,
    categorical: list[str],
    ratios: list[tuple[str, str, str]],
    *,
    special: tuple = (),
    decimals: int = 0,
    scaling: dict | None = None,
) -> str:
    """The scorecard's score as one SQL expression (comment lines first)."""
    unit = int(10**decimals)
    by_ratio = {name: (numerator, denominator) for name, numerator, denominator in ratios}
    cases = [
        feature_case(
            name=name,
            bins=bins,
            ratios=by_ratio,
            special=tuple(special),
            unit=unit,
            categorical=name in categorical,
        )
        for name, bins in points.groupby("feature", sort=False)
    ]
    header = [
        "-- Kaizen scorecard: score = sum of each feature's points (higher is safer).",
        "-- Use: SELECT <this expression> AS score FROM applications;",
    ]
    if scaling:
        header.append(
            "-- Probability of default: 1 / (1 + base_odds * 2^((score - base_score) / pdo)) "
            f"with pdo={scaling['pdo']:g}, base_score={scaling['base_score']:g}, "
            f"base_odds={scaling['base_odds']:g}"
        )
    total = "\n  +\n".join(cases)
    return "\n".join(header) + f"\nCAST((\n{total}\n) AS DOUBLE) / {number(unit)}\n"


def of_pipeline(pipeline) -> str:
    """The SQL expression of a fitted scorecard Pipeline (its ratios, bins and scaling)."""
    binning, model = pipeline.named_steps["prep"], pipeline.steps[-1][1]
    scaling = {"pdo": model.pdo, "base_score": model.base_score, "base_odds": model.base_odds}
    return expression(
        S.table(pipeline),
        list(binning.categorical),
        list(pipeline.named_steps["features"].ratios),
        special=binning.special_codes,
        decimals=model.decimals,
        scaling=scaling,
    )
