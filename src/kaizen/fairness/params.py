"""`params.yaml`'s `fairness` section -> frozen, validated configuration (kaizen.config holds the
whole file; this module keeps the section beside the code that reads it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    """Immutable, no unknown keys (as every section of kaizen.config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Protected(_Section):
    """A protected (or proxy) attribute: a categorical column (one group per value) or a numeric
    one cut into groups at `bands` (e.g. [25, 62]: <25, [25, 62), >=62)."""

    column: str = Field(min_length=1)
    bands: list[float] | None = None
    reference: str | None = None  # the reference group's label; default: the largest group

    @field_validator("bands")
    @classmethod
    def _check_bands(cls, value):
        """Cut points that make groups: at least one, strictly increasing."""
        if value is not None and not value:
            raise ValueError("give at least one cut point, or leave bands out")
        if value and any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError("cut points must be strictly increasing")
        return value


class FairnessConfig(_Section):
    """The fairness stage: protected attributes, group size, screening band, intervals."""

    min_group: int = Field(30, ge=1)  # smaller groups are reported, never judged
    protected: list[Protected] = Field(default_factory=list)
    air_band: float = Field(0.8, gt=0, lt=1)  # adverse impact ratio screen (four-fifths rule)
    bootstrap: int = Field(500, ge=0)  # resamples for the 95 % intervals
    stability_refits: int = Field(20, ge=0)  # bootstrap refits measuring reason-code stability
    seed: int = 42

    @field_validator("protected")
    @classmethod
    def _unique(cls, value):
        """One declaration per column."""
        names = [item.column for item in value]
        if len(set(names)) < len(names):
            raise ValueError("a column is declared twice")
        return value

    @property
    def columns(self) -> list[str]:
        """The declared protected columns."""
        return [item.column for item in self.protected]
