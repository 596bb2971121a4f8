"""What a browser gets: the reference dashboard at `/`, its static files and the vendored
libraries under `/static/`, and the interactive API docs at `/schema/swagger`, all served from
the package itself, so that both work on a machine with no internet.

The dashboard uses nothing but the public API (`/v1/...` and the stream): it is an example for
dashboard builders as much as a tool. Its files are plain HTML, CSS and ES modules, served as
they are in the repository (no build step). Every third-party file is vendored at a pinned
version with its licence beside it (`static/vendor/README.md`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC_DIR = Path(__file__).parent / "static"
SWAGGER_UI = "/static/vendor/swagger-ui-5.36.0"


class OfflineSwaggerRenderPlugin(SwaggerRenderPlugin):
    """Swagger UI from the vendored bundle. litestar's own page loads Swagger UI from a CDN (a
    white page offline), inlines the document in a script and asks an online validator for a
    badge; this page loads the document from the service and sends nothing elsewhere."""

    def __init__(self) -> None:
        super().__init__(
            js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER_UI}/swagger-ui.css",
            favicon="",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        config = request.app.openapi_config
        root = config.path.rstrip("/") if config and config.path else "/schema"
        document = html.escape(f"{root}/openapi.json")
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{self.css_url}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{self.js_url}"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{document}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      tryItOutEnabled: false,
    }});
  </script>
</body>
</html>
""".encode()


@get("/", include_in_schema=False, sync_to_thread=False, name="dashboard")
def dashboard() -> File:
    """The reference dashboard: one page, its panels drawn by dashboard/*.js."""
    return File(
        STATIC_DIR / "dashboard" / "index.html",
        filename="index.html",
        content_disposition_type="inline",
        media_type=MediaType.HTML,
    )


WEB_ROUTES: list[ControllerRouterHandler] = [
    dashboard,
    create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
]
