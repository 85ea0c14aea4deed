"""`params.yaml`'s `model_card` section -> frozen, validated configuration (kaizen.config holds the
whole file; this module keeps the section beside the code that reads it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    """Immutable, no unknown keys (as every section of kaizen.config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelCardConfig(_Section):
    """What the team states in the model card (the rest is measured by the pipeline)."""

    owner: str = Field("", max_length=200)
    intended_use: str = Field(min_length=1)
    out_of_scope: list[str] = Field(min_length=1)
    limitations: list[str] = Field(default_factory=list)  # beside the measured ones
    base: str | None = None  # revision the change log compares against (a fixed commit or tag)
