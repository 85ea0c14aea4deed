"""Runtime settings: every `KAIZEN_*` environment variable, MLflow's own
`MLFLOW_TRACKING_URI` and OpenBLAS's `OPENBLAS_*`, is read here and nowhere else (a test
on the source keeps it so).

Each command loads only the section it needs, so that a bad `KAIZEN_MAX_BATCH` stops
`kaizen serve` but not `kaizen ingest`. A flag given on the command line wins over the
environment, the environment over the default; an empty variable counts as unset. A bad value
stops the command with one line naming the flag or the variable, never the value: tokens, the
webhook URL and the database URL (it may hold a password) are `SecretStr`, masked in str, repr
and logs. A value shared by several commands (the database, the threshold override) has one
type below, so it is validated the same way everywhere.
"""

from __future__ import annotations

import logging
import os
import platform
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kaizen import KaizenError

log = logging.getLogger(__name__)

DEFAULT_DB = "events.db"  # SQLite file under the working directory
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
BODY_PER_APPLICATION, BODY_OVERHEAD = 4096, 65536  # bytes: the default KAIZEN_MAX_BODY


def _database_url(value: Any) -> Any:
    """A path, `sqlite:///…` or `postgresql://…` -> the SQLAlchemy URL, normalised once here."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(text, str):
        return value  # pydantic words the type error
    # pylint: disable-next=import-outside-toplevel  # SQLAlchemy loads for store commands only
    from kaizen.events.engine import database_url

    return SecretStr(database_url(text))


def _comma_list(value: Any) -> Any:
    """`Age,Marital` (the environment's form) -> ('Age', 'Marital'); a sequence passes."""
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return value


# One type per shared value: each is validated the same way by every section that holds it.
DatabaseUrl = Annotated[
    SecretStr,
    BeforeValidator(_database_url),
    Field(description="event store: a path, sqlite:///… or postgresql://… (normalised URL)"),
]
Threshold = Annotated[
    float | None,
    Field(
        gt=0, lt=1, description="refuse scores >= this; None: the bundle's (evaluated) threshold"
    ),
]
BundlePath = Annotated[Path, Field(description="the deployable folder: model, threshold, profile")]
PiiFields = Annotated[
    tuple[str, ...],
    NoDecode,
    BeforeValidator(_comma_list),
    Field(description="inputs that are personal data (comma-separated in the environment)"),
]
MIN_SECRET_BYTES = 32  # a token or salt shorter than this is guessable offline (256 bits)


def _long_secret(value: SecretStr | None) -> SecretStr | None:
    """A token or a salt holds at least MIN_SECRET_BYTES bytes (UTF-8); None: not set."""
    if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)")
    return value


def _webhook(value: SecretStr | None) -> SecretStr | None:
    """An http(s) URL with a host and nothing unprintable; the error never repeats the URL (its
    path is often the secret)."""
    if value is None:
        return value
    text = value.get_secret_value()
    try:
        parts = urllib.parse.urlsplit(text)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("use an http:// or https:// URL with a host")
    if any(ord(char) <= 32 or ord(char) == 127 for char in text):
        raise ValueError("holds a space or a control character")
    return value


Token = Annotated[
    SecretStr | None,
    AfterValidator(_long_secret),
    Field(description="bearer token of POST /feedback (at least 32 bytes)"),
]
Salt = Annotated[
    SecretStr | None,
    AfterValidator(_long_secret),
    Field(description="the key of the PII hash (at least 32 bytes)"),
]
Webhook = Annotated[
    SecretStr | None,
    AfterValidator(_webhook),
    Field(description="Slack-compatible alert URL (http or https)"),
]

S = TypeVar("S", bound="Section")


class Section(BaseSettings):
    """One command's settings: `KAIZEN_<FIELD>` variables, unknown fields refused, frozen."""

    model_config = SettingsConfigDict(
        env_prefix="KAIZEN_", env_ignore_empty=True, extra="forbid", frozen=True
    )

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of `field`, e.g. KAIZEN_MAX_BATCH."""
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @classmethod
    def load(cls: type[S], **flags: Any) -> S:
        """The environment, overridden by the flags that were given (not None); a bad value is
        one line naming the variable (`KAIZEN_MAX_BATCH: …`, also when `--max-batch` gave it)."""
        given = {name: value for name, value in flags.items() if value is not None}
        try:
            settings = cls(**given)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else cls.__name__
            message = str(error["msg"]).removeprefix("Value error, ")
            raise KaizenError(f"{cls.variable(field)}: {message}") from None
        log.debug("%s settings: %s", cls.__name__.lower(), settings)
        return settings


class Logging(Section):
    """The CLI's diagnostics (`--verbose` is DEBUG)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="lowest level of the messages on stderr"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        """`debug` is DEBUG."""
        return value.strip().upper() if isinstance(value, str) else value


class Store(Section):
    """The event store: `kaizen events`, and every command that reads or writes events."""

    db: DatabaseUrl = Field(DEFAULT_DB, validate_default=True)


class Bundled(Section):
    """Every command that reads the deployable bundle."""

    bundle: BundlePath = Path("models/bundle")


def bundle_folder(flag: str | Path | None) -> Path:
    """The bundle folder: the flag, else KAIZEN_BUNDLE, else models/bundle."""
    return Bundled.load(bundle=flag).bundle


class Serving(Store):
    """`kaizen serve`: the API."""

    bundle: BundlePath = Path("models/bundle")
    threshold: Threshold = None
    max_batch: int = Field(1000, ge=1, description="applications per request")
    reasons: int = Field(4, ge=0, description="reason codes per application")
    feedback_token: Token = None
    pii_fields: PiiFields = ()
    pii_mode: Literal["hash", "drop"] = "hash"
    pii_salt: Salt = None
    # Hardening (issue 19): a body above the limit is refused (413) before it is parsed.
    max_body: int | None = Field(
        None,
        ge=1024,
        description=f"request body bytes; None: {BODY_PER_APPLICATION} per "
        f"application of max_batch plus {BODY_OVERHEAD}",
    )
    clock_skew: float = Field(
        300, ge=0, le=86400, description="seconds a feedback's observed_at may be ahead of now"
    )

    @classmethod
    def load(cls: type[S], **flags: Any) -> S:
        """As Section.load; and a secret set to the empty string is refused, not taken as unset:
        an empty KAIZEN_FEEDBACK_TOKEN must never look like a configured one."""
        for field in ("feedback_token", "pii_salt"):
            given = flags.get(field, os.environ.get(cls.variable(field)))
            if isinstance(given, str) and not given.strip():
                raise KaizenError(f"{cls.variable(field)}: is empty (unset it to disable)")
        return super().load(**flags)

    @property
    def body_limit(self) -> int:
        """The largest request body accepted, in bytes (KAIZEN_MAX_BODY, else sized from
        KAIZEN_MAX_BATCH: room for long categories escaped as \\uXXXX)."""
        if self.max_body is not None:
            return self.max_body
        return self.max_batch * BODY_PER_APPLICATION + BODY_OVERHEAD


class Monitor(Store):
    """`kaizen monitor`: judges the served model's events with the API's threshold."""

    bundle: BundlePath = Path("models/bundle")
    threshold: Threshold = None
    pii_fields: PiiFields = ()
    alert_webhook: Webhook = None


class Simulate(Section):
    """`kaizen simulate-traffic`: the client side of the API."""

    bundle: BundlePath = Path("models/bundle")
    feedback_token: Token = None


class Mlflow(Section):
    """`kaizen mlflow`: MLflow's own variable, read here like ours (MLflow reads it too)."""

    model_config = SettingsConfigDict(env_prefix="MLFLOW_")

    tracking_uri: str | None = Field(None, description="tracking server or store URI")


class Predict(Section):
    """`kaizen predict`: which engine scores the batch, and its memory and thread bounds."""

    engine: Literal["pandas", "duckdb", "spark"] = Field(
        "pandas", description="pandas (one process), duckdb (one node), spark (a cluster)"
    )
    batch_rows: int = Field(100_000, ge=1_000, description="rows per scored Arrow batch")
    memory_limit: str = Field(
        "1GB",
        pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB's memory cap, e.g. 512MB or 2GiB",
    )
    threads: int = Field(1, ge=1, description="OpenMP/BLAS threads of each scoring worker")
    workers: int = Field(2, ge=1, description="batches scored at once (DuckDB, Parquet)")
    master: str = Field("local[*]", description="Spark master (local mode by default)")


# OpenBLAS (numpy's and SciPy's) picks its kernels by CPU, and AVX-512 kernels round otherwise
# than AVX2 ones: a model refitted on another x86-64 machine got other floats, and a fresh clone's
# `make repro` rewrote dvc.lock (issue 24). Every x86-64 CPU with AVX2 and FMA (Intel since 2013,
# AMD since 2015) gets the same kernels. Other CPUs (arm64, older x86-64) keep OpenBLAS's choice.
# One OpenBLAS thread: Kaizen's matrices are small (a logistic regression on thousands of rows,
# 100,000-row scoring chunks already spread over workers), and OpenBLAS's extra threads mostly
# spin: the fairness stage took 5.0-7.2 s wall and 7.6-9.6 CPU s with them, 4.5-5.8 s and 4.5-5.8
# CPU s without; two of them per sweep worker made `-j 2` slower than `-j 1` (bench/README.md).
BLAS_CORETYPE = "Haswell"
BLAS_THREADS = "1"


def blas_defaults(cpuinfo: str = "/proc/cpuinfo") -> None:
    """Before numpy loads, unless the user set them: OPENBLAS_NUM_THREADS=1, and
    OPENBLAS_CORETYPE on an x86-64 CPU with AVX2 and FMA, so that the process computes the same
    floats on every such machine."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)
    if "OPENBLAS_CORETYPE" in os.environ or platform.machine() not in ("x86_64", "AMD64"):
        return
    if avx2_fma(cpuinfo):
        os.environ["OPENBLAS_CORETYPE"] = BLAS_CORETYPE


def avx2_fma(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has AVX2 and FMA, by `cpuinfo`'s first flags line (False when there
    is no such file: not Linux, OpenBLAS chooses)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as lines:
            flags = next(
                (line.split(":", 1)[-1].split() for line in lines if line.startswith("flags")), []
            )
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


def worker_threads(jobs: int) -> dict[str, str]:
    """OMP_NUM_THREADS for `jobs` processes sharing this machine's cores (at least one thread
    each), unless the user set it: OpenMP's default, a thread per core in every process, spins
    against the other workers (histogram gradient boosting fitted 10 times slower beside a busy
    process on 2 cores; its results do not depend on the thread count)."""
    if "OMP_NUM_THREADS" in os.environ:
        return {}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"OMP_NUM_THREADS": str(max(1, (cores or 1) // max(1, jobs)))}


def blas_coretype() -> str | None:
    """The OpenBLAS kernels this process runs with (`blas_defaults`' or the user's), for
    processes it starts elsewhere (Spark's Python workers)."""
    return os.environ.get("OPENBLAS_CORETYPE")
