"""Clients generated from the document the service serves cover every operation, and one of
them files a report, reads holdings and the timeline, and creates a key against a real
service: dashboards are written with such clients.

The generators run from `.tools/` (`make test` installs them there, apart from the
project's virtualenv: openapi-python-client brings pydantic, with which litestar would
document the service otherwise than it runs). Without them these tests skip.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import textwrap
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from application.reports import ReportService
from seed.demo import load_demo
from store.api_keys import Role, create_key
from store.database import Database
from store.event_store import EventStore
from tests.api.live_server import serving

TOOLS = Path(__file__).resolve().parents[2] / ".tools"
PYTHON_TOOLS = TOOLS / "python" / "bin"
TYPESCRIPT_GENERATOR = TOOLS / "node_modules" / ".bin" / "openapi-typescript"
PACKAGE = "conflict_timeline_client"
# The batch route's body is NDJSON, which openapi-python-client does not know: it is told to
# send it as bytes (as it sends application/octet-stream), with its own content type.
GENERATOR_CONFIG = """\
content_type_overrides:
  application/x-ndjson: application/octet-stream
post_hooks: []
"""
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def _served_document(database_url: str) -> dict[str, Any]:
    app = create_app(Database(url=database_url, embedded=False), settings=ApiSettings())
    with serving(app) as url:
        answer = httpx.get(f"{url}/schema/openapi.json", timeout=30)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _generate_python(document: dict[str, Any], folder: Path) -> Path:
    generator = PYTHON_TOOLS / "openapi-python-client"
    if not generator.exists():
        pytest.skip("openapi-python-client is not in .tools/ (make test installs it)")
    (folder / "openapi.json").write_text(json.dumps(document))
    (folder / "generator.yaml").write_text(GENERATOR_CONFIG)
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "generator.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Every endpoint it could not read it names in a warning, and leaves out.
    assert "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr
    return folder / PACKAGE


def test_a_python_client_generated_from_the_served_document_covers_every_operation(
    service_url: str, tmp_path: Path
) -> None:
    document = _served_document(service_url)
    package = _generate_python(document, tmp_path)
    generated = set()
    for module in (package / "api").rglob("*.py"):
        text = module.read_text()
        method = re.search(r'"method": "(\w+)"', text)
        url = re.search(r'"url": f?"([^"]+)"', text)
        if method and url:
            generated.add((method[1], re.sub(r"\{quote\(str\((\w+)\).*?\)\}", r"{\1}", url[1])))
    assert generated == _operations(document)


def test_a_typescript_client_generated_from_the_served_document_types_every_operation(
    service_url: str, tmp_path: Path
) -> None:
    if not TYPESCRIPT_GENERATOR.exists():
        pytest.skip("openapi-typescript is not in .tools/ (make test installs it with npm)")
    document = _served_document(service_url)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    done = subprocess.run(
        [str(TYPESCRIPT_GENERATOR), "openapi.json", "--output", "timeline.d.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    types = (tmp_path / "timeline.d.ts").read_text()
    operation_ids = {
        item[method]["operationId"]
        for item in document["paths"].values()
        for method in item
        if method in METHODS
    }
    operations = types.split("export interface operations")[1]
    declared = set(re.findall(r"^    (\w+): \{$", operations, re.MULTILINE))
    assert operation_ids <= declared
    for path in document["paths"]:
        assert f'"{path}": {{' in types


# Run by the generators' own Python, where the generated package's dependencies are.
STORY = textwrap.dedent(
    f"""
    import json, sys
    from {PACKAGE} import AuthenticatedClient
    from {PACKAGE}.api.reports import file_report, file_reports
    from {PACKAGE}.api.service import create_key
    from {PACKAGE}.api.views import get_holdings, get_timeline
    from {PACKAGE}.models import FileReport, NewKey
    from {PACKAGE}.types import File

    url, editor, admin, report = sys.argv[1:5]
    as_editor = AuthenticatedClient(base_url=url, token=editor)
    as_admin = AuthenticatedClient(base_url=url, token=admin)
    filed = file_report.sync(client=as_editor, body=FileReport.from_dict(json.loads(report)))
    lines = File(payload=(report + "\\n").encode(), mime_type="application/x-ndjson")
    batch = file_reports.sync(client=as_editor, body=lines)
    holdings = get_holdings.sync(client=as_editor, min_position=batch.position)
    timeline = get_timeline.sync(client=as_editor, limit=200)
    newsroom = NewKey.from_dict({{"role": "reader", "name": "newsroom"}})
    key = create_key.sync(client=as_admin, body=newsroom)
    print(json.dumps({{
        "filed": filed.version,
        "batch": len(batch.reports),
        "holdings": [row.key for row in holdings.rows],
        "timeline": len(timeline.items),
        "key": key.key.role.value,
    }}))
    """
)

KURAKHOVE_ADVANCE = {
    "claim": {
        "kind": "front_advance",
        "actor": "Russia",
        "direction": "Kurakhove",
        "region": "Donetsk Oblast",
        "country": "UA",
        "rate": {"unit": "m/day", "low": 200, "high": 300, "qualifier": "between"},
    },
    "attribution": {"source": "Ukrainian General Staff source", "side": "ukraine"},
    "occurred": {"precision": "day", "on": "2024-11-23"},
    "reported": {"precision": "day", "on": "2024-11-23"},
}


def _story(database_url: str, editor: str, admin: str, folder: Path) -> CompletedProcess[str]:
    app = create_app(Database(url=database_url, embedded=False), settings=ApiSettings())
    with serving(app) as url:
        document = httpx.get(f"{url}/schema/openapi.json", timeout=30).json()
        _generate_python(document, folder)
        return subprocess.run(
            [str(PYTHON_TOOLS / "python"), "-c", STORY, url, editor, admin,
             json.dumps(KURAKHOVE_ADVANCE)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip


async def test_a_generated_python_client_files_reads_and_creates_a_key(
    service_url: str, store: EventStore, pool: Any, tmp_path: Path
) -> None:
    # Given the seed article, and the keys of an editor and an admin
    await load_demo(ReportService(store))
    editor = await create_key(pool, "desk", Role.EDITOR)
    admin = await create_key(pool, "operator", Role.ADMIN)
    # When a newsroom's script, written with the generated client, files and reads
    done = await asyncio.to_thread(_story, service_url, editor.secret, admin.secret, tmp_path)
    # Then each call got its answer, typed
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout)
    assert told == {
        "filed": 1,
        "batch": 1,
        "holdings": ["kursk-oblast/ukraine"],
        "timeline": 16,
        "key": "reader",
    }
