"""kaizen serve: flags reach the settings, the model and store are checked before uvicorn."""

import pytest
import uvicorn

from kaizen import cli
from tests.unit.helpers import assert_one_line_error


@pytest.fixture(name="calls")
def fixture_calls(monkeypatch):
    """uvicorn.run replaced by a recorder."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    for name in ("KAIZEN_DB", "KAIZEN_THRESHOLD", "KAIZEN_PII_FIELDS"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve_starts_uvicorn_with_the_app(bundled, db, calls):
    """Host, port and the opened service reach uvicorn; flags override the environment."""
    argv = ["serve", "--bundle", str(bundled), "--db", db, "--threshold", "0.3"]
    assert cli.main(argv + ["--host", "0.0.0.0", "--port", "9123", "--max-batch", "7"]) == 0
    [(app, kwargs)] = calls
    assert kwargs["host"] == "0.0.0.0" and kwargs["port"] == 9123
    assert kwargs["access_log"] is False
    assert app.title == "Kaizen credit scoring"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--db", "/nonexistent/dir/e.db"], "KAIZEN_DB: /nonexistent/dir: no such directory"),
        (["--max-batch", "0"], "KAIZEN_MAX_BATCH: Input should be greater than or equal to 1"),
    ],
)
def test_serve_errors_are_one_line(bundled, calls, capsys, extra, fragment):
    """Bad settings stop start-up with one line and never reach uvicorn."""
    assert cli.main(["serve", "--bundle", str(bundled), "--threshold", "0.3"] + extra) == 1
    assert_one_line_error(capsys.readouterr().err, fragment)
    assert not calls


def test_serve_refuses_a_missing_bundle(tmp_path, db, calls, capsys):
    """No bundle: one line naming it."""
    assert cli.main(["serve", "--bundle", str(tmp_path / "b"), "--db", db]) == 1
    assert_one_line_error(capsys.readouterr().err, "b: not a bundle (no bundle.json")
    assert not calls
