"""The API's /docs and /redoc render in headless Chromium with every non-local request blocked
(a lender's network without internet): Swagger UI lists the operations, ReDoc titles them."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.test_monitor import CHROMIUM_FLAGS, chromium
from tests.integration.test_serving import Server, initialised, server_env
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import
    fixture_bundled,
    fixture_fitted,
)

pytestmark = pytest.mark.integration
# Every host name resolves to nothing but 127.0.0.1: a page that needs a CDN stays blank.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def rendered(browser: str, url: str, profile: str) -> str:
    """The DOM of `url` after its scripts ran (virtual time lets them fetch and render)."""
    result = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            OFFLINE,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_api_docs_render_offline(bundled, tmp_path):
    """Both documentation pages draw the API's operations from local assets only."""
    browser = chromium()
    if browser is None:
        if os.environ.get("KAIZEN_REQUIRE_CHROMIUM") == "1":
            pytest.fail("KAIZEN_REQUIRE_CHROMIUM=1 but no chromium on PATH")
        pytest.skip("chromium not installed (Debian package `chromium`)")
    db = initialised(str(tmp_path / "events.db"))
    server = Server(server_env(bundled, db)).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        swagger = rendered(browser, f"{base}/docs", str(tmp_path / "profile-docs"))
        assert 'class="swagger-ui' in swagger
        for path in ("/predict", "/feedback", "/health"):
            assert f'data-path="{path}"' in swagger, path
        redoc = rendered(browser, f"{base}/redoc", str(tmp_path / "profile-redoc"))
        assert "/predict" in redoc and "redoc-wrap" in redoc
    finally:
        server.stop()
