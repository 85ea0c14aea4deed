"""monitoring/alerts.yml: valid Prometheus rules whose alerts fire when they should
(`promtool test rules` on monitoring/alerts.test.yml)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "monitoring"


def promtool() -> str:
    """promtool's path; skip without it, or fail when CI requires it (KAIZEN_REQUIRE_PROMTOOL)."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("KAIZEN_REQUIRE_PROMTOOL") == "1":
            pytest.fail("KAIZEN_REQUIRE_PROMTOOL=1 but promtool is not installed")
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    return found


def test_rules_are_valid_and_their_tests_pass():
    """check rules, then the rule unit tests (alerts firing and staying quiet)."""
    tool = promtool()
    for args in (("check", "rules", "alerts.yml"), ("test", "rules", "alerts.test.yml")):
        found = subprocess.run(
            [tool, *args], cwd=RULES, capture_output=True, text=True, check=False
        )
        assert found.returncode == 0, found.stdout + found.stderr
        assert "SUCCESS" in found.stdout + found.stderr


def test_every_monitor_gauge_in_the_rules_is_written():
    """The rules use only gauge names that metrics.prom carries."""
    from kaizen.monitoring import render  # pylint: disable=import-outside-toplevel

    text = (RULES / "alerts.yml").read_text(encoding="utf-8")
    used = {word for word in text.replace("(", " ").split() if word.startswith("kaizen_monitor_")}
    source = Path(render.__file__).read_text(encoding="utf-8")
    assert used and all(name.split("{")[0] in source for name in used)
