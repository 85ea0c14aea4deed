"""`data.split` in params.yaml: how the rows divide into reference and current (by file row,
by share, by a date column, or not at all), the dates it accepts, and the migration of the
deprecated `data.current_start` (kaizen.config validates the rest of the file)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class _Split(BaseModel):
    """Base of the split forms: immutable, no unknown keys, as every params section."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_bool(value):
    """YAML `true`/`false` would otherwise pass as the numbers 1/0."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


ISO_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_date(value: str, fmt: str | None = None) -> datetime:
    """An ISO date (`2018-03`, `2018-03-15`, `2018-03-15T08:00`) or, failing that, `value` in
    the column's own `fmt` (e.g. `Mar-2018` for `%b-%Y`); ValueError when it is neither."""
    text = value.strip()
    try:
        return datetime.fromisoformat(f"{text}-01" if ISO_MONTH.match(text) else text)
    except ValueError:
        pass
    if fmt:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    also = f" nor in format {fmt!r}" if fmt else ""
    raise ValueError(f"{value!r} is not an ISO date such as 2018-03 or 2018-03-15{also}")


class RowSplit(_Split):
    """Current part from a 1-based data row on (the file's row order is its acquisition order)."""

    by: Literal["row"]
    start: int = Field(ge=2)

    _no_bool = field_validator("start", mode="before")(_not_bool)


class ShareSplit(_Split):
    """The last `current` share of the rows, in file order, is the current part."""

    by: Literal["share"]
    current: float = Field(gt=0, lt=1)

    _no_bool = field_validator("current", mode="before")(_not_bool)


class DateSplit(_Split):
    """Rows ordered by a date column; those dated `current_from` or later are the current part.
    The date column is not a feature."""

    by: Literal["date"]
    column: str
    format: str | None = None  # strptime format of the column (e.g. "%b-%Y"); None: ISO 8601
    current_from: str

    @field_validator("current_from", mode="before")
    @classmethod
    def _date_to_text(cls, value):
        """YAML reads an unquoted 2018-03-01 as a date: keep its ISO text."""
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    @field_validator("current_from")
    @classmethod
    def _check_current_from(cls, value, info: ValidationInfo):
        """A date, so that a typo fails before any data is read."""
        parse_date(value, info.data.get("format"))
        return value


class NoSplit(_Split):
    """No current part: every row is reference."""

    by: Literal["none"]


Split = Annotated[RowSplit | ShareSplit | DateSplit | NoSplit, Field(discriminator="by")]
TAGS = ("row", "share", "date", "none")


def split_from_current_start(value: int | float | str) -> dict:
    """The `data.split` equivalent of a deprecated `data.current_start` value."""
    if value == "none":
        return {"by": "none"}
    if isinstance(value, float):
        return {"by": "share", "current": value}
    return {"by": "row", "start": value}


def flow(mapping: dict) -> str:
    """A flat mapping in YAML flow style, as a user writes it: `{by: row, start: 2479}`."""
    return "{" + ", ".join(f"{key}: {value}" for key, value in mapping.items()) + "}"


def deprecations(raw: object) -> list[str]:
    """One message per deprecated key in a parsed params mapping."""
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict) or "current_start" not in data or "split" in data:
        return []
    value = data["current_start"]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return []
    return [
        f"data.current_start is deprecated: write data.split: "
        f"{flow(split_from_current_start(value))} instead "
        "(`kaizen data add` migrates it)"
    ]
