"""Serving settings: one object, from command-line flags or `KAIZEN_*` environment variables
(flags win). Validated at start-up so that a bad value stops the server with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kaizen import KaizenError

DEFAULT_DB = "events.db"  # SQLite file under the working directory


class Settings(BaseSettings):
    """What `kaizen serve` needs; each field is also `KAIZEN_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="KAIZEN_", extra="forbid", frozen=True)

    bundle: Path = Path("models/bundle")  # the deployable folder: model, threshold, reference
    db: str = DEFAULT_DB
    feedback_token: SecretStr | None = None
    threshold: float | None = Field(None, ge=0, le=1)  # default: the bundle's
    max_batch: int = Field(1000, ge=1)
    reasons: int = Field(4, ge=0, description="reason codes per application")
    pii_fields: Annotated[tuple[str, ...], NoDecode] = ()
    pii_mode: Literal["hash", "drop"] = "hash"
    pii_salt: SecretStr | None = None

    @field_validator("pii_fields", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """`KAIZEN_PII_FIELDS=Age,Marital`: a comma-separated list in the environment."""
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value


def load_settings(**flags: object) -> Settings:
    """Settings from the environment, overridden by the flags that were given (not None)."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        raise KaizenError(f"KAIZEN_{name.upper()}: {error['msg']}") from None


def bundle_folder(flag: str | Path | None) -> Path:
    """The bundle folder: the flag, else KAIZEN_BUNDLE, else models/bundle."""
    return load_settings(bundle=flag).bundle
