"""Validating raw tabular data (read by kaizen.io.tables): schema inference, target, split by
acquisition order (file rows or a date column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kaizen import KaizenError
from kaizen.config import DataConfig
from kaizen.splits import DateSplit, NoSplit, RowSplit, ShareSplit, Split, flow, parse_date

ROW = "row"  # index name: the 1-based data row of the raw file, kept end to end
NUMERIC_SHARE = 0.95  # a column this numeric is numeric with typos, not categorical
BALANCE = 0.2  # a split leaving less than this share of rows on one side gets a warning


@dataclass(frozen=True)
class Schema:
    """Column roles and types of the ingested data, shared by every later stage."""

    target: str
    positive: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        """Every input column, in file order groups: numeric then categorical."""
        return self.numeric + self.categorical

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "target": self.target,
            "positive": self.positive,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
        }

    @classmethod
    def from_dict(cls, raw: dict) -> "Schema":
        """Inverse of `to_dict`."""
        return cls(raw["target"], raw["positive"], list(raw["numeric"]), list(raw["categorical"]))


def _to_numeric(values: pd.Series) -> pd.Series:
    """Parse strings to floats; unparsable values become NaN."""
    return pd.to_numeric(values.str.strip(), errors="coerce")


def numeric_share(values: pd.Series) -> float:
    """Share of the non-missing values (strings) that parse as numbers (NaN when none)."""
    present = values.dropna()
    return float(_to_numeric(present.astype(str)).notna().mean()) if len(present) else np.nan


def column_kind(values: pd.Series) -> str:
    """The type rule of ingest, for a raw column: numeric when at least NUMERIC_SHARE of its
    values parse as numbers, categorical otherwise, empty when it has no value."""
    share = numeric_share(values)
    if np.isnan(share):
        return "empty"
    return "numeric" if share >= NUMERIC_SHARE else "categorical"


def infer_schema(frame: pd.DataFrame, config: DataConfig, source: str = "data") -> Schema:
    """Decide numeric vs categorical per column (params overrides win) and check each column."""
    for name in config.columns:
        if name not in frame.columns:
            raise KaizenError(f"params.yaml: data.columns.{name}: no such column in {source}")
    numeric, categorical = [], []
    for name in frame.columns:
        if name in (config.target, config.date_column):
            continue
        kind = config.columns.get(name)
        if kind == "drop":
            continue
        values = frame[name].dropna()
        if values.empty:
            raise KaizenError(
                f"{source}: column {name!r} is empty in every row "
                f"(drop it with data.columns: {{{name}: drop}})"
            )
        if kind == "numeric" or (kind is None and column_kind(values) == "numeric"):
            check_numeric(frame, [name], source)
            numeric.append(name)
        else:
            categorical.append(name)
    if not numeric and not categorical:
        raise KaizenError(f"{source}: no feature columns besides the target {config.target!r}")
    return Schema(config.target, str(config.positive), numeric, categorical)


def check_numeric(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise, naming the first bad row, if a numeric column holds text."""
    for name in columns:
        values = frame[name].dropna()
        parsed = _to_numeric(values)
        if parsed.isna().any():
            bad = values[parsed.isna()]
            raise KaizenError(
                f"{source}: column {name!r} is numeric but holds text in {len(bad)} row(s), "
                f"e.g. {bad.iloc[0]!r} at data row {bad.index[0]}"
            )


def encode_target(
    values: pd.Series, positive: str, target: str, source: str, allow_missing: bool = False
) -> pd.Series:
    """Map the target to 1 (positive) / 0, checking two classes and the positive value.

    With `allow_missing`, unlabelled rows (recent applications) become NaN (float64); int8 when
    every row is labelled."""
    unlabelled = values.isna()
    if unlabelled.any() and not allow_missing:
        first = values[unlabelled].index[0]
        raise KaizenError(f"{source}: target {target!r} is missing at data row {first}")
    if unlabelled.any():
        encoded = encode_target(values[~unlabelled], positive, target, source)
        return encoded.astype("float64").reindex(values.index)
    labels = values.str.strip()
    classes = sorted(labels.unique())
    if len(classes) != 2:
        raise KaizenError(
            f"{source}: target {target!r} must have exactly 2 classes, found {len(classes)}: "
            f"{classes[:5]}"
        )
    matches = labels == positive
    if not matches.any():
        # 0/1 targets written as 1.0, or True/true.
        numeric = pd.to_numeric(labels, errors="coerce")
        try:
            wanted = float(positive)
        except ValueError:
            wanted = None
        if wanted is not None and numeric.notna().all():
            matches = numeric == wanted
        else:
            matches = labels.str.lower() == positive.lower()
    if not matches.any():
        raise KaizenError(
            f"{source}: target {target!r} has no value equal to data.positive={positive!r} "
            f"(classes: {classes})"
        )
    return matches.astype("int8").rename(target)


def clean(frame: pd.DataFrame, schema: Schema, config: DataConfig, source: str) -> pd.DataFrame:
    """Typed frame: numeric float64 (sentinels -> NaN), categorical strings, target 0/1."""
    out = pd.DataFrame(index=frame.index)
    sentinels = {float(v) for v in config.missing_values if _is_number(v)}
    text_sentinels = {str(v) for v in config.missing_values}
    for name in schema.numeric:
        values = _to_numeric(frame[name])
        if sentinels:
            values = values.mask(values.isin(sentinels))
        out[name] = values.astype("float64")
    for name in schema.categorical:
        values = frame[name].str.strip()
        if text_sentinels:
            values = values.mask(values.isin(text_sentinels))
        out[name] = as_object(values)
    out[schema.target] = encode_target(
        frame[schema.target], schema.positive, schema.target, source, allow_missing=True
    )
    return out


def _is_number(value: object) -> bool:
    """True for ints/floats and numeric strings."""
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def split_position(n_rows: int, split: Split) -> int:
    """Number of leading rows in the reference part of a row, share or no split."""
    if isinstance(split, NoSplit):
        return n_rows
    if isinstance(split, ShareSplit):
        return int(round(n_rows * (1 - split.current)))
    if not isinstance(split, RowSplit):
        raise TypeError(f"a {split.by} split has no position")
    position = split.start - 1
    if position >= n_rows:
        raise KaizenError(
            f"params.yaml: data.split.start: row {split.start} is beyond the last data row "
            f"({n_rows})"
        )
    return position


def split_dates(frame: pd.DataFrame, split: DateSplit, source: str) -> pd.Series:
    """The date column of a date split, parsed; one-line errors for an absent column, a missing
    date or a value in another format."""
    name = split.column
    if name not in frame.columns:
        raise KaizenError(
            f"{source}: date column {name!r} not found (data.split.column in params.yaml)"
        )
    values = frame[name]
    if values.isna().any():
        row = values.index[values.isna()][0]
        raise KaizenError(
            f"{source}: date column {name!r} is missing at data row {row} "
            "(a date split needs a date in every row)"
        )
    text = values.astype(str).str.strip()
    fmt = split.format or "ISO8601"
    try:
        dates = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0]
        raise KaizenError(f"{source}: date column {name!r} is not readable ({detail})") from None
    if dates.isna().any():
        row = dates.index[dates.isna()][0]
        raise KaizenError(
            f"{source}: date column {name!r} holds {values[row]!r} at data row {row}, "
            f"not a date in format {fmt!r} (data.split.format)"
        )
    return dates


def split_rows(frame: pd.DataFrame, split: Split, source: str = "data") -> tuple:
    """Positions (for `iloc`) of the reference and the current rows of `frame`, raw or typed.

    Row, share and no split: slices in file order (acquisition order). Date split: rows ordered
    by the date (ties in file order), current from `current_from` on.
    """
    if not isinstance(split, DateSplit):
        position = split_position(len(frame), split)
        return slice(0, position), slice(position, None)
    dates = split_dates(frame, split, source)
    start = pd.Timestamp(parse_date(split.current_from, split.format))
    zone = dates.dt.tz
    if zone is not None:
        start = start.tz_localize(zone) if start.tzinfo is None else start.tz_convert(zone)
    elif start.tzinfo is not None:
        start = start.tz_convert(None)
    order = np.argsort(dates.to_numpy(), kind="stable")
    current = (dates.iloc[order] >= start).to_numpy()
    return order[~current], order[current]


def split_reference_current(
    frame: pd.DataFrame, split: Split, source: str = "data"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by acquisition order (file rows, or a date column): earlier rows are reference,
    later rows current."""
    reference, current = split_rows(frame, split, source)
    return frame.iloc[reference], frame.iloc[current]


def split_balance(n_reference: int, n_current: int, split: Split, source: str) -> list[str]:
    """A warning when a split leaves under BALANCE or over 1 - BALANCE of the rows current."""
    total = n_reference + n_current
    if isinstance(split, NoSplit) or not total:
        return []
    share = n_current / total
    if BALANCE <= share <= 1 - BALANCE:
        return []
    side, rows = ("current", n_current) if share < BALANCE else ("reference", n_reference)
    return [
        f"{source}: data.split {flow(split.model_dump(exclude_none=True))} leaves "
        f"{rows:,} of {total:,} rows ({rows / total:.0%}) in the {side} part, under "
        f"{BALANCE:.0%}: is the split meant for this file?"
    ]


def drop_duplicate_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Remove exact duplicate rows (first kept); return the frame and how many were removed."""
    duplicated = frame.duplicated(keep="first")
    return frame.loc[~duplicated], int(duplicated.sum())


def summarise(frame: pd.DataFrame, schema: Schema) -> dict:
    """Small, JSON-ready facts about a part: rows, positive rate (of the labelled rows), missing
    share, and the count of unlabelled rows when there are any."""
    rows = len(frame)
    labels = frame[schema.target].dropna()
    facts = {
        "rows": rows,
        "positive_rate": round(float(labels.mean()), 6) if len(labels) else None,
        "missing_share": (
            round(float(frame[schema.features].isna().to_numpy().mean()), 6) if rows else None
        ),
    }
    if len(labels) < rows:
        facts["unlabelled"] = rows - len(labels)
    return facts


def labelled_reference(part: pd.DataFrame, target: str, source: str) -> pd.DataFrame:
    """The reference part with its target as int8; an unlabelled row there is an error."""
    unlabelled = part[target].isna()
    if unlabelled.any():
        raise KaizenError(
            f"{source}: target {target!r} is missing at data row {part.index[unlabelled][0]} "
            "of the reference part (unlabelled rows may only follow data.current_start)"
        )
    return part.assign(**{target: part[target].astype("int8")})


def check_columns(frame: pd.DataFrame, schema: Schema, source: str) -> None:
    """Raise if `frame` lacks a column the schema needs."""
    missing = [name for name in schema.features if name not in frame.columns]
    if missing:
        raise KaizenError(f"{source}: missing column(s) the model needs: {', '.join(missing)}")


def coerce_features(frame: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    """Select and type the model's input columns from raw (string) data for scoring: numbers as
    float64, categories (stripped text) as pandas categoricals, missing values as NaN."""
    check_columns(frame, schema, source)
    columns: dict[str, np.ndarray | pd.Series] = {}
    for name in schema.numeric:
        values = frame[name]
        # pandas >= 3 reads text as the `str` dtype, not object: parse anything non-numeric.
        numeric = pd.api.types.is_numeric_dtype(values)
        parsed = values if numeric else _arrow_numbers(values)
        if parsed is None:
            parsed = _to_numeric(values.astype("string"))
        numbers = np.asarray(parsed, dtype="float64")
        bad = np.isnan(numbers) & values.notna().to_numpy()
        if bad.any():
            first = values.index[bad.argmax()]
            raise KaizenError(
                f"{source}: column {name!r} holds text {values[first]!r} at data row {first}, "
                "the model expects a number"
            )
        columns[name] = numbers
    for name in schema.categorical:
        text = _arrow_categories(frame[name])
        if text is None:
            text = as_object(frame[name].astype("string").str.strip()).astype("category")
        columns[name] = text
    return pd.DataFrame(columns, index=frame.index)


def _arrow_numbers(values: pd.Series) -> np.ndarray | None:
    """Text held by pyarrow parsed as float64 by pyarrow (10x pandas' parser); None when the
    column is not pyarrow text or a value does not parse (pandas then finds and names it)."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    try:
        return pc.cast(pa.array(values), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _arrow_categories(values: pd.Series) -> pd.Series | None:
    """The stripped text as a categorical, from pyarrow's dictionary of the distinct values:
    only those are stripped and made Python strings, not every row; None when not pyarrow
    text."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    text = pa.array(values)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = text.dictionary_encode()
    stripped = pc.utf8_trim_whitespace(encoded.dictionary).to_pylist()
    categories = sorted(set(stripped))  # as pandas orders them
    code = {value: number for number, value in enumerate(categories)}
    recode = np.array([code[value] for value in stripped] + [-1])  # the last: missing
    codes = recode[encoded.indices.fill_null(len(stripped)).to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories), index=values.index)


def as_object(values: pd.Series) -> pd.Series:
    """Strings as an object column with NaN for missing, the form scikit-learn imputers expect."""
    return values.astype(object).where(values.notna(), np.nan)


class Ingested(NamedTuple):
    """What ingest makes of a raw file."""

    schema: Schema
    reference: pd.DataFrame
    current: pd.DataFrame
    facts: dict
    warnings: list[str]


def check_key(frame: pd.DataFrame, key: list[str], source: str) -> None:
    """`data.key` names columns of the data (the PR report matches rows by it)."""
    for name in key:
        if name not in frame.columns:
            raise KaizenError(f"params.yaml: data.key: no such column {name!r} in {source}")


def ingest(raw: pd.DataFrame, config: DataConfig, source: str) -> Ingested:
    """Validate and type `raw`, split it (data.split), drop duplicates; facts for metrics."""
    if config.target not in raw.columns:
        raise KaizenError(
            f"{source}: target column {config.target!r} not found (data.target in params.yaml)"
        )
    check_key(raw, config.key_columns, source)
    reference_rows, current_rows = split_rows(raw, config.split, source)
    # Issue 8: types are inferred on the reference part only (the current part must not shape
    # the model), then every row, current included, must parse as those types.
    schema = infer_schema(raw.iloc[reference_rows], config, f"{source} (reference part)")
    check_numeric(raw, schema.numeric, source)
    typed = clean(raw, schema, config, source)
    ref, cur = typed.iloc[reference_rows], typed.iloc[current_rows]
    warnings = split_balance(len(ref), len(cur), config.split, source)
    ref = labelled_reference(ref, schema.target, source)
    if cur[schema.target].notna().all():
        cur = cur.assign(**{schema.target: cur[schema.target].astype("int8")})
    dropped = {"reference": 0, "current": 0}
    if config.drop_duplicates:
        ref, dropped["reference"] = drop_duplicate_rows(ref)
        cur, dropped["current"] = drop_duplicate_rows(cur)
    if ref[schema.target].nunique() < 2:
        raise KaizenError(
            f"{source}: the reference part (rows before the data.split point) has a single class"
        )
    facts = {
        "rows": len(typed),
        "numeric": len(schema.numeric),
        "categorical": len(schema.categorical),
        "reference": {**summarise(ref, schema), "duplicates_dropped": dropped["reference"]},
        "current": {**summarise(cur, schema), "duplicates_dropped": dropped["current"]},
    }
    return Ingested(schema, ref, cur, facts, warnings)


def split_train_test(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split of the reference part into (train, test), reproducible from the seed."""
    counts = frame[target].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise KaizenError(
            f"prepare: the reference part needs >= 2 rows of each class, has {counts.to_dict()}"
        )
    # pylint: disable-next=import-outside-toplevel  # scikit-learn's import costs 0.7 s, and
    from sklearn.model_selection import train_test_split  # reading data (predict) needs none

    train, test = train_test_split(
        frame, test_size=test_size, stratify=frame[target], random_state=seed
    )
    return train.sort_index(), test.sort_index()
