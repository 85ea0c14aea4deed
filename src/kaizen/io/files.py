"""File input/output: every read and write of the package goes through here.

Permissions: an output is made as a plain `open` would make it, under the process's umask
(0644 under the usual 022), so that another user can read `metrics.prom` (a node-exporter
textfile collector), `report.html` or a `kaizen predict` output. A `private` output, one that
holds personal data or secrets (event exports; the event store itself is made by
`kaizen.events.engine`), is 0600 whatever the umask, and a folder made for it is 0700.

CSV meant for people (`spreadsheet_safe`): a text cell that a spreadsheet would run as a formula
(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with a single quote,
as OWASP recommends against CSV injection, and NUL bytes become U+FFFD. Parquet keeps values
exactly as they are.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import yaml

from kaizen import KaizenError

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: cells a spreadsheet evaluates


def _mode(private: bool, folder: bool = False) -> int:
    """The mode of a new file or folder: private, or what `open`/`mkdir` give under the umask."""
    if private:
        return PRIVATE_DIR if folder else PRIVATE_FILE
    return (0o777 if folder else 0o666) & ~umask()


@contextlib.contextmanager
def atomic_path(path: str | Path, private: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; move it onto `path` only if the block succeeds.
    The file gets the umask's mode, or 0600 when `private` (see the module's docstring)."""
    path = Path(path)
    if private and not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)  # mkstemp made it 0600: nobody else could open it while it is written
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(_mode(private))
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; it replaces `path` only if the block succeeds
    (with the umask's mode: mkdtemp's 0700 is for while it is written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(_mode(False, folder=True))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def restored_on_error(path: str | Path) -> Iterator[None]:
    """If the block raises, put `path` back as it was before it (its bytes, or its absence)."""
    path = Path(path)
    backup = None
    if path.is_file():
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".backup", dir=path.parent)
        os.close(fd)
        backup = Path(name)
        backup.unlink()
        try:
            os.link(path, backup)  # cheap; the block replaces the file, never edits it in place
        except OSError:
            shutil.copy2(path, backup)
    try:
        yield
    except BaseException:
        if backup is not None:
            os.replace(backup, path)
        else:
            path.unlink(missing_ok=True)
        raise
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)


def umask() -> int:
    """The process's file-creation mask: read from /proc on Linux (setting it to read it back
    would change it for a moment for every thread), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o077)
    os.umask(current)
    return current


def shared(path: str | Path) -> None:
    """Give `path` the permissions a plain `open` would under the umask (files are written
    0600 by the atomic helpers): for outputs that another user reads, e.g. the bundle in an
    image that runs as a non-root user."""
    path = Path(path)
    path.chmod((0o777 if path.is_dir() else 0o666) & ~umask())


def write_json(data: Any, path: str | Path) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(content: bytes, path: str | Path) -> None:
    """Write bytes, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)


def copy_file(source: str | Path, target: str | Path) -> None:
    """Copy a file's bytes to `target`, atomically."""
    write_bytes(Path(source).read_bytes(), target)


def read_bytes(path: str | Path) -> bytes | None:
    """A file's bytes, or None when it is missing."""
    file = Path(path)
    return file.read_bytes() if file.is_file() else None


def read_json(path: str | Path) -> Any:
    """Read a JSON file, with a one-line error when it is missing or invalid."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KaizenError(f"{path}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise KaizenError(f"{path}: invalid JSON ({exc.msg}, line {exc.lineno})") from exc


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content, with one-line errors naming the file."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as exc:
        raise KaizenError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None


def write_parquet(frame: pd.DataFrame, path: str | Path, private: bool = False) -> None:
    """Write a frame (index included) as Parquet, atomically (0600 when `private`)."""
    with atomic_path(path, private) as tmp:
        frame.to_parquet(tmp, index=True)


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file written by `write_parquet`."""
    path = Path(path)
    if not path.is_file():
        raise KaizenError(f"{path}: file not found")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        detail = detail.split(f"{path}': ", 1)[-1].split(". ")[0]  # the reason, not the path
        raise KaizenError(f"{path}: not a readable Parquet file ({detail})") from None


def write_csv(
    frame: pd.DataFrame,
    path: str | Path,
    index: bool = True,
    private: bool = False,
    quote_text: bool = False,
) -> None:
    """Write a frame as CSV, atomically (0600 when `private`); `quote_text`: every text cell
    quoted (a lone carriage return in a value then stays inside its cell for every reader)."""
    quoting = csv.QUOTE_NONNUMERIC if quote_text else csv.QUOTE_MINIMAL
    with atomic_path(path, private) as tmp:
        frame.to_csv(tmp, index=index, quoting=quoting)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells a spreadsheet will not evaluate: a cell starting with
    = + - @ tab or CR gets a leading single quote (OWASP's CSV-injection advice), NUL bytes
    become U+FFFD. Numbers, missing values and other cells are kept as they are."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        out[name] = pd.Series(
            [_safe_cell(value) for value in column.tolist()], index=out.index, dtype=object
        )
    return out


def _safe_cell(value: Any) -> Any:
    """One cell of `spreadsheet_safe`."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "\ufffd")
    return "'" + value if value.startswith(FORMULA_START) else value


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """A small CSV (a metrics table) as one dict per row; a one-line error if unreadable."""
    path = Path(path)
    try:
        return pd.read_csv(path).to_dict(orient="records")
    except (OSError, ValueError) as exc:
        raise KaizenError(f"{path}: cannot read ({type(exc).__name__})") from None


def write_rows(frames: pd.DataFrame | Iterable[pd.DataFrame], path: str | Path) -> None:
    """Write a frame's columns (not its index), or the rows of successive frames with the same
    columns, as CSV with pyarrow's writer, atomically: about 10x `to_csv` at 1M rows. Each frame
    is written as it comes (the writer releases the interpreter lock, so the next one can be
    computed meanwhile). Values are quoted only when some value of the file holds a separator,
    quote or line break (then every text value is); floats are written in plain decimal
    notation."""
    if isinstance(frames, pd.DataFrame):
        frames = [frames]
    header = b""
    tables: list[pa.Table] = []  # kept until the end, in case quoting starts over
    quoting = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with atomic_path(path) as tmp:
        sink = pa.OSFile(str(tmp), "wb")  # not a Python file: writing needs no interpreter lock
        try:
            for frame in frames:
                if not tables:
                    text = io.StringIO()
                    csv.writer(text, lineterminator="\n").writerow(map(str, frame.columns))
                    header = text.getvalue().encode("utf-8")
                    sink.write(header)
                tables.append(pa.Table.from_pandas(frame, preserve_index=False))
                try:
                    pcsv.write_csv(tables[-1], sink, quoting)
                except pa.ArrowInvalid:  # a value needs quotes: start over, quoting all text
                    quoting = pcsv.WriteOptions(include_header=False)
                    sink.close()
                    sink = pa.OSFile(str(tmp), "wb")
                    sink.write(header)
                    for table in tables:
                        pcsv.write_csv(table, sink, quoting)
        finally:
            sink.close()


def save_model(model: Any, path: str | Path) -> None:
    """Pickle a fitted pipeline with joblib, atomically."""
    # pylint: disable-next=import-outside-toplevel  # models only: the monitor never loads one
    import joblib

    with atomic_path(path) as tmp:
        joblib.dump(model, tmp)


def load_model(path: str | Path) -> Any:
    """Load a pipeline saved by `save_model`."""
    path = Path(path)
    if not path.is_file():
        raise KaizenError(f"{path}: model file not found (run `dvc repro train` first)")
    # pylint: disable-next=import-outside-toplevel  # models only: the monitor never loads one
    import joblib

    return joblib.load(path)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
