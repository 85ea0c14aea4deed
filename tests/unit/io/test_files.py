"""Atomic writes and one-line read errors."""

import hashlib
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from kaizen import KaizenError
from kaizen.io import files


def siblings(path) -> list[str]:
    """Names in the folder of `path` (to spot leftover temporary files)."""
    return sorted(p.name for p in path.parent.iterdir())


def test_atomic_path_success_and_failure(tmp_path):
    """The target appears only when the block succeeds; no temporary file is left behind."""
    target = tmp_path / "sub" / "out.txt"
    with files.atomic_path(target) as tmp:
        tmp.write_text("new", encoding="utf-8")
        assert not target.exists()
    assert target.read_text(encoding="utf-8") == "new"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "new"
    assert siblings(target) == ["out.txt"]


def test_atomic_dir_success_and_failure(tmp_path):
    """A folder is replaced whole on success and left untouched on failure."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with files.atomic_dir(target) as tmp:
            (tmp / "new.txt").write_text("new", encoding="utf-8")
            raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert siblings(target) == ["out"]
    with files.atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert siblings(target) == ["out"]
    fresh = tmp_path / "deep" / "fresh"
    with files.atomic_dir(fresh) as tmp:
        (tmp / "a").write_text("a", encoding="utf-8")
    assert (fresh / "a").is_file()


def test_json_round_trip_and_errors(tmp_path):
    """JSON is indented, NaN is refused (nothing written), read errors are one line."""
    path = tmp_path / "m.json"
    files.write_json({"a": 1, "b": [1.5, None]}, path)
    assert files.read_json(path) == {"a": 1, "b": [1.5, None]}
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert '\n  "a": 1' in path.read_text(encoding="utf-8")
    with pytest.raises(ValueError):
        files.write_json({"a": float("nan")}, path)
    assert files.read_json(path)["a"] == 1
    with pytest.raises(KaizenError, match="nope.json: file not found"):
        files.read_json(tmp_path / "nope.json")
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(KaizenError, match=r"m.json: invalid JSON \(.*, line 1\)$"):
        files.read_json(path)


def test_parquet_round_trip_keeps_index_and_types(tmp_path):
    """Index (with its name), floats, NaN, objects and int8 survive."""
    frame = pd.DataFrame(
        {"a": [1.5, np.nan], "b": ["x", np.nan], "y": np.array([1, 0], dtype="int8")},
        index=pd.Index([3, 7], name="row"),
    )
    path = tmp_path / "p.parquet"
    files.write_parquet(frame, path)
    back = files.read_parquet(path)
    assert back.index.name == "row" and list(back.index) == [3, 7]
    assert back["y"].dtype == "int8"
    assert np.isnan(back.loc[7, "a"]) and back.loc[3, "b"] == "x"
    with pytest.raises(KaizenError, match="q.parquet: file not found"):
        files.read_parquet(tmp_path / "q.parquet")


def test_write_csv_with_and_without_index(tmp_path):
    """The index is written unless asked not to."""
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index([5, 6], name="row"))
    files.write_csv(frame, tmp_path / "i.csv")
    files.write_csv(frame, tmp_path / "n.csv", index=False)
    assert (tmp_path / "i.csv").read_text(encoding="utf-8").splitlines() == ["row,a", "5,1", "6,2"]
    assert (tmp_path / "n.csv").read_text(encoding="utf-8").splitlines() == ["a", "1", "2"]


def test_model_round_trip(tmp_path):
    """A fitted estimator is saved and loaded; a missing file is a one-line error."""
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    path = tmp_path / "m.joblib"
    files.save_model(model, path)
    loaded = files.load_model(path)
    np.testing.assert_allclose(loaded.predict_proba([[1.5]]), model.predict_proba([[1.5]]))
    with pytest.raises(KaizenError, match=r"x.joblib: model file not found \(run `dvc repro"):
        files.load_model(tmp_path / "x.joblib")


def test_file_sha256(tmp_path):
    """Same digest as hashlib on the bytes (also across the 1 MiB block boundary)."""
    content = bytes(range(256)) * 5000
    path = tmp_path / "f.bin"
    path.write_bytes(content)
    assert files.file_sha256(path) == hashlib.sha256(content).hexdigest()


def test_write_json_refuses_infinity(tmp_path):
    """Infinity is not valid JSON: refused, no file."""
    path = tmp_path / "inf.json"
    with pytest.raises(ValueError):
        files.write_json({"x": float("inf")}, path)
    assert not path.exists()


def test_write_rows_round_trips_and_quotes_only_when_needed(tmp_path):
    """Plain values unquoted; a value with a separator, quote or line break is quoted, and the
    file reads back to the same frame (missing values as empty cells)."""
    plain = pd.DataFrame({"a b": ["x", None], "score": [0.000069, 1.0]})
    path = tmp_path / "plain.csv"
    files.write_rows(plain, path)
    assert path.read_text(encoding="utf-8") == "a b,score\nx,0.000069\n,1\n"
    tricky = pd.DataFrame({"name": ['say "hi"', "a,b", "two\nlines"], "n": [1, 2, 3]})
    path = tmp_path / "tricky.csv"
    files.write_rows(tricky, path)
    back = pd.read_csv(path, dtype={"name": object})
    assert back["name"].tolist() == tricky["name"].tolist()
    assert back["n"].tolist() == [1, 2, 3]
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_rows_of_successive_frames_equals_one_frame(tmp_path):
    """Frames written one after another give the bytes of their concatenation; a value needing
    quotes in a later frame quotes the whole file, as for one frame."""
    frame = pd.DataFrame({"name": ["a", "b", "c,d", "e"], "score": [0.5, 1.0, 0.25, 0.0]})
    for rows in (frame.iloc[:2], frame):  # without, then with a value needing quotes
        whole, parts = tmp_path / "whole.csv", tmp_path / "parts.csv"
        files.write_rows(rows, whole)
        files.write_rows((rows.iloc[i : i + 1] for i in range(len(rows))), parts)
        assert parts.read_bytes() == whole.read_bytes()
    assert b'"c,d"' in parts.read_bytes() and b'"a"' in parts.read_bytes()


def test_bytes_round_trip_and_missing_file(tmp_path):
    """write_bytes leaves no temporary file; read_bytes gives the bytes, or None when missing."""
    path = tmp_path / "a.bin"
    files.write_bytes(b"\x00\x01", path)
    assert files.read_bytes(path) == b"\x00\x01"
    assert siblings(path) == ["a.bin"]
    assert files.read_bytes(tmp_path / "nope.bin") is None


def test_read_yaml_and_its_errors(tmp_path):
    """YAML content, or a one-line error naming the file."""
    path = tmp_path / "a.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    assert files.read_yaml(path) == {"a": [1, 2]}
    with pytest.raises(KaizenError, match=r"nope.yaml: file not found \(run from the repo"):
        files.read_yaml(tmp_path / "nope.yaml")
    path.write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(KaizenError, match=r"a.yaml: invalid YAML \(.+\)$"):
        files.read_yaml(path)


def test_copy_file(tmp_path):
    """The same bytes at the target, no temporary file left; a missing source raises."""
    source, target = tmp_path / "a.bin", tmp_path / "out" / "b.bin"
    source.write_bytes(b"model\x00bytes")
    files.copy_file(source, target)
    assert target.read_bytes() == b"model\x00bytes" and siblings(target) == ["b.bin"]
    with pytest.raises(FileNotFoundError):
        files.copy_file(tmp_path / "nope.bin", target)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_outputs_honour_the_umask_private_ones_are_0600(tmp_path, mask):
    """Ordinary outputs (text, JSON, Parquet, CSV, a folder) get what `open` and `mkdir` give
    under the umask; private ones are 0600, in a 0700 folder when it is made for them."""
    old = os.umask(mask)
    try:
        files.write_text("x", tmp_path / "metrics.prom")
        files.write_json({}, tmp_path / "report.json")
        files.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "scores.csv")
        with files.atomic_dir(tmp_path / "folder") as tmp:
            (tmp / "a").write_text("a", encoding="utf-8")
        files.write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "new" / "e.parquet", True)
        files.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "e.csv", private=True)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {
        "metrics.prom": 0o666 & ~mask,
        "report.json": 0o666 & ~mask,
        "scores.csv": 0o666 & ~mask,
        "folder": 0o777 & ~mask,
        "new": 0o700,
        "e.csv": 0o600,
    }
    assert (tmp_path / "new" / "e.parquet").stat().st_mode & 0o777 == 0o600


def test_spreadsheet_safe_cells():
    """OWASP: = + - @ tab CR at the start get a quote; NUL becomes U+FFFD; numbers, missing
    values and safe text are kept; the input frame is not changed."""
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "+x", "-x", "@x", "\tx", "\rx", "a=b", "a\x00b", None],
            "number": [-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    safe = files.spreadsheet_safe(frame)
    assert pd.isna(safe["text"].iloc[-1])
    assert safe["text"].tolist()[:-1] == [
        "'=1+1",
        "'+x",
        "'-x",
        "'@x",
        "'\tx",
        "'\rx",
        "a=b",
        "a\ufffdb",
    ]
    assert safe["number"].tolist() == frame["number"].tolist()
    assert frame["text"][0] == "=1+1"
