"""The monitor's least-privilege PostgreSQL role, exactly as docs/security.md creates it: the
monitor runs as that role and saves its run; the role cannot add, change or delete events."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from kaizen import cli
from kaizen.events import migrate, runs
from kaizen.events.engine import create_engine, database_url
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from tests.integration.conftest import fresh_database
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import
    fixture_bundled,
    fixture_fitted,
)
from tests.unit.serving.conftest import application

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def documented_sql(role: str, database: str) -> list[str]:
    """The statements of docs/security.md's sql block, for this role and database."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```sql\n(.*?)```", text, re.S)
    block = block.replace("kaizen_monitor", role).replace("DATABASE kaizen", f"DATABASE {database}")
    return [statement.strip() for statement in block.split(";") if statement.strip()]


def test_monitor_runs_as_the_documented_read_only_role(bundled, postgres, tmp_path, monkeypatch):
    """Events stored by the API; the role made with the documented SQL; `kaizen monitor` as it
    succeeds and its run is stored; inserting, updating or deleting events is refused."""
    for name in ("KAIZEN_PII_FIELDS", "KAIZEN_PII_SALT", "KAIZEN_ALERT_WEBHOOK", "KAIZEN_DB"):
        monkeypatch.delenv(name, raising=False)
    owner = fresh_database(postgres)
    engine = create_engine(owner)
    migrate.upgrade(engine)
    settings = Serving.load(bundle=bundled, db=owner, threshold=0.5)
    with TestClient(create_app(settings)) as client:
        batch = [application(Debt=20.0 + i % 9) for i in range(60)]
        assert client.post("/predict", json={"applications": batch}).status_code == 200
    role = f"kaizen_monitor_{uuid.uuid4().hex[:8]}"
    database = owner.rsplit("/", 1)[1]
    with engine.begin() as conn:
        for statement in documented_sql(role, database):
            conn.exec_driver_sql(statement)
    as_role = owner.replace("postgresql://kaizen@", f"postgresql://{role}:change-me@")
    argv = ["--params", str(tmp_path / "none.yaml"), "monitor", "--last", "60"]
    argv += ["--output", str(tmp_path / "report"), "--db", as_role, "--bundle", str(bundled)]
    assert cli.main(argv) in (0, 2)
    assert len(runs.history(engine, 5)) == 1
    restricted = sa.create_engine(database_url(as_role))
    for statement in (
        "INSERT INTO feedback VALUES ('x', 1, now(), now())",
        "UPDATE predictions SET score = 0",
        "DELETE FROM predictions",
        "DELETE FROM monitor_runs",
        "CREATE TABLE t (x int)",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with restricted.begin() as conn:
                conn.exec_driver_sql(statement)
    restricted.dispose()
    engine.dispose()
