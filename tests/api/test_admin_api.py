"""Operators over HTTP: status for readers; rebuilds and keys for admins only."""

from __future__ import annotations

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client, Keys


async def test_status_lists_every_view(client: Client, keys: Keys) -> None:
    response = await client.get("/v1/status", headers=Keys.header(keys.reader))
    assert response.status_code == 200
    views = {row["view"] for row in response.json()["views"]}
    assert views == {
        "holdings",
        "damage",
        "forces",
        "front",
        "strikes",
        "timeline",
        "holdings-series",
        "forces-history",
        "front-series",
        "incidents",
        "tallies",
        "tallies-series",
    }


async def test_rebuild_needs_admin_and_switches_generation(
    client: Client,
    keys: Keys,
    store: EventStore,
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    body = {"views": ["holdings"]}
    editor = await client.post("/v1/admin/rebuilds", json=body)
    assert editor.status_code == 403
    assert "admin" in editor.json()["detail"]
    rebuilt = await client.post("/v1/admin/rebuilds", json=body, headers=Keys.header(keys.admin))
    assert rebuilt.status_code == 200, rebuilt.text
    (only,) = rebuilt.json()["rebuilt"]
    assert only["view"] == "holdings"
    assert only["position"] == head
    after = await client.get("/v1/holdings/kursk-oblast", params={"min_position": head})
    assert after.json()["rows"][0]["row"]["current"]["area"]["value"] == 800.0
    unknown = await client.post(
        "/v1/admin/rebuilds", json={"views": ["nope"]}, headers=Keys.header(keys.admin)
    )
    assert unknown.status_code == 422
    assert "nope" in unknown.json()["detail"]


async def test_key_created_over_http_works_then_revoked_stops_at_once(
    client: Client,
    keys: Keys,
) -> None:
    admin = Keys.header(keys.admin)
    created = await client.post(
        "/v1/admin/keys", json={"name": "dashboard", "role": "reader"}, headers=admin
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    key_id = created.json()["key"]["id"]
    assert (await client.get("/v1/front", headers=Keys.header(secret))).status_code == 200
    writes = await client.post(
        "/v1/admin/keys", json={"name": "x", "role": "admin"}, headers=Keys.header(secret)
    )
    assert writes.status_code == 403
    listed = (await client.get("/v1/admin/keys", headers=admin)).json()["keys"]
    assert "dashboard" in {key["name"] for key in listed}
    assert secret not in str(listed)
    revoked = await client.post(f"/v1/admin/keys/{key_id}/revocation", headers=admin)
    assert revoked.status_code == 200
    after = await client.get("/v1/front", headers=Keys.header(secret))
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]
    bad_role = await client.post(
        "/v1/admin/keys", json={"name": "x", "role": "owner"}, headers=admin
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["field"] == "role"


async def test_revoking_a_key_that_does_not_exist_is_a_404_naming_it(
    client: Client, keys: Keys
) -> None:
    unknown = "6f1d2a9e-0000-4000-8000-000000000000"
    response = await client.post(
        f"/v1/admin/keys/{unknown}/revocation", headers=Keys.header(keys.admin)
    )
    assert response.status_code == 404
    problem = response.json()
    assert problem["type"].endswith("/key-not-found")
    assert unknown in problem["detail"]
