"""/docs and /redoc load every script, style sheet and icon from the server itself."""

from __future__ import annotations

import re

URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?([^"' )>]+)""")


def test_docs_pages_reference_only_local_assets(client):
    """Both pages: every asset they name is on this server and is served (200, non-empty)."""
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200, page
        assets = [u for u in URL.findall(response.text) if not u.startswith("#")]
        assert assets, page
        remote = [u for u in assets if re.match(r"^(?:[a-z]+:)?//", u)]
        assert not remote, (page, remote)
        for asset in assets:
            if asset.startswith("/docs-assets/"):
                served = client.get(asset)
                assert served.status_code == 200 and len(served.content) > 1000, asset
        assert "/openapi.json" in response.text


def test_fastapi_cdn_pages_are_not_declared(client):
    """Only the offline pages exist: no second /docs route from FastAPI's defaults."""
    paths = [getattr(route, "path", None) for route in client.app.routes]
    assert paths.count("/docs") == 1 and paths.count("/redoc") == 1
    assert "/docs" not in client.get("/openapi.json").json()["paths"]
