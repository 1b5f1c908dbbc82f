"""The HTTP API (issue 21, first part): tokens, the case routes through Starlette's test
client on each store, errors as problem details, ETags and If-Match, idempotency keys, the
OpenAPI document against the routes, and a real uvicorn process on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORT, RULES, T0, add_team, at
from starlette.routing import Route
from starlette.testclient import TestClient
from test_cli_actions import ok, run

from aftersales import PermissionDenied, ServiceDesk, ValidationError
from aftersales.cli.config import load_config
from aftersales.http import make_app

REPORT_JSON = {**REPORT, "customer": dict(REPORT["customer"]), "at": at(0).isoformat()}


@pytest.fixture
def served(storage_url: str) -> Iterator[tuple[ServiceDesk, TestClient, dict[str, str]]]:
    desk = ServiceDesk(RULES / "default.policy", storage_url)
    add_team(desk)
    tokens = {who: desk.tokens.issue(who, by="m1", at=T0).token for who in ("m1", "cs1", "e7")}
    with TestClient(make_app(desk)) as client:
        yield desk, client, tokens
    desk.close()


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


# ---- tokens ------------------------------------------------------------------------------
def test_tokens_are_issued_once_stored_hashed_and_revocable(storage_url: str) -> None:
    desk = ServiceDesk(RULES / "default.policy", storage_url)
    add_team(desk)
    issued = desk.tokens.issue("e7", by="m1", name="phone", valid_for=timedelta(days=1), at=T0)
    assert issued.token.startswith(f"as_{issued.record.id}_")
    secret = issued.token.removeprefix(f"as_{issued.record.id}_")  # may hold "_" itself
    assert secret not in json.dumps(desk.storage.get("api_token", issued.record.id).data)
    assert desk.tokens.staff_of(issued.token, T0 + timedelta(hours=1)).id == "e7"
    for bad in (issued.token[:-1] + "x", "as_nope_x", "Bearer x", "", None, 42):
        with pytest.raises(PermissionDenied, match="not valid"):
            desk.tokens.staff_of(bad, T0)
    with pytest.raises(PermissionDenied, match="not valid"):  # expired
        desk.tokens.staff_of(issued.token, T0 + timedelta(days=1))
    own = desk.tokens.issue("e8", by="e8", at=T0)  # a member issues their own
    with pytest.raises(PermissionDenied):
        desk.tokens.issue("e8", by="e7", at=T0)  # not someone else's
    with pytest.raises(PermissionDenied):
        desk.tokens.revoke(own.record.id, by="e7", at=T0)
    desk.tokens.revoke(own.record.id, by="e8", at=T0 + timedelta(minutes=1))
    with pytest.raises(PermissionDenied, match="not valid"):
        desk.tokens.staff_of(own.token, T0 + timedelta(minutes=2))
    with pytest.raises(ValidationError, match="valid_for"):
        desk.tokens.issue("e7", by="m1", valid_for=timedelta(days=9999), at=T0)
    assert [t.id for t in desk.tokens.list(staff="e8")] == [own.record.id]


# ---- the case routes ----------------------------------------------------------------------
def test_a_case_reported_and_worked_over_http(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    desk, client, tokens = served
    made = client.post("/cases", json=REPORT_JSON, headers=auth(tokens["cs1"]))
    assert made.status_code == 201, made.text
    case = made.json()
    assert made.headers["etag"] == '"1"' and made.headers["location"] == f"/cases/{case['number']}"
    assert case["reported_by"] == "cs1"  # the token decided who acts
    got = client.get(f"/cases/{case['number']}", headers=auth(tokens["e7"]))
    assert got.json()["id"] == case["id"] and got.headers["etag"] == '"1"'
    same = client.get(
        f"/cases/{case['id']}", headers=auth(tokens["e7"], **{"If-None-Match": '"1"'})
    )
    assert same.status_code == 304
    responded = client.post(f"/cases/{case['number']}/respond", json={"at": at(5).isoformat()},
                            headers=auth(tokens["cs1"], **{"If-Match": '"1"'}))  # fmt: skip
    assert responded.status_code == 200 and responded.json()["status"] == "responded"
    assert responded.headers["etag"] == '"2"'
    assigned = client.post(f"/cases/{case['number']}/assign",
                           json={"engineer": "e7", "at": at(10).isoformat()},
                           headers=auth(tokens["cs1"], **{"If-Match": '"2"'}))  # fmt: skip
    assert assigned.json()["engineer"] == "e7"
    listed = client.get("/cases", params={"status": "assigned"}, headers=auth(tokens["m1"]))
    assert [c["number"] for c in listed.json()] == [case["number"]]
    history = client.get(f"/cases/{case['number']}/history", headers=auth(tokens["m1"])).json()
    assert [e["type"] for e in history] == ["reported", "responded", "assigned"]
    clocks = client.get(f"/cases/{case['number']}/sla", params={"now": at(30).isoformat()},
                        headers=auth(tokens["m1"])).json()  # fmt: skip
    assert {c["milestone"] for c in clocks} >= {"response", "contact"}
    assert desk.cases.get(case["id"]).version == 3
    me = client.get("/me", headers=auth(tokens["e7"])).json()
    assert me["id"] == "e7"
    assert {s["id"] for s in client.get("/staff", headers=auth(tokens["e7"])).json()} >= {"m1"}


def test_errors_are_problem_details_with_the_sdks_message(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    desk, client, tokens = served
    case = client.post("/cases", json=REPORT_JSON, headers=auth(tokens["cs1"])).json()
    url = f"/cases/{case['number']}"

    def check(answer: Any, status: int, kind: str, said: str) -> None:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["status"] == status and body["type"].endswith(kind) and said in body["detail"]

    check(client.get(url), 401, "unauthenticated", "Authorization: Bearer")
    check(client.get(url, headers=auth("as_x_y")), 403, "permission-denied", "not valid")
    check(client.get("/cases/AS-2026-999999", headers=auth(tokens["e7"])), 404, "not-found",
          "no case numbered")  # fmt: skip
    check(client.post(f"{url}/respond", headers=auth(tokens["cs1"])), 428,
          "precondition-required", 'If-Match: "1"')  # fmt: skip
    check(client.post(f"{url}/respond", headers=auth(tokens["cs1"], **{"If-Match": '"7"'})),
          412, "precondition-failed", "at version 1")  # fmt: skip
    check(client.post(f"{url}/respond", headers=auth(tokens["e7"], **{"If-Match": '"1"'})),
          403, "permission-denied", "e7")  # fmt: skip
    check(client.post(f"{url}/arrive", headers=auth(tokens["e7"], **{"If-Match": '"1"'})),
          409, "workflow", "cannot arrive")  # fmt: skip
    check(client.post(f"{url}/respond", json={"by": "m1"},
                      headers=auth(tokens["cs1"], **{"If-Match": '"1"'})), 422, "validation",
          "the token says who acts")  # fmt: skip
    check(client.post(f"{url}/respond", content=b"{not json",
                      headers=auth(tokens["cs1"], **{"If-Match": '"1"'})), 422, "validation",
          "not JSON")  # fmt: skip
    check(client.post(f"{url}/respond", json={"at": "2026-11-23T09:05"},
                      headers=auth(tokens["cs1"], **{"If-Match": '"1"'})), 422, "validation",
          "no UTC offset")  # fmt: skip
    check(client.post(f"{url}/fly", headers=auth(tokens["cs1"], **{"If-Match": '"1"'})), 403,
          "permission-denied", "no case action 'fly'")  # fmt: skip
    check(client.post("/cases", json={**REPORT_JSON, "severity": "apocalyptic"},
                      headers=auth(tokens["cs1"])), 422, "validation", "severity")  # fmt: skip
    assert desk.cases.get(case["id"]).version == 1  # nothing of the above was stored


def test_a_retried_post_with_its_idempotency_key_acts_once(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    desk, client, tokens = served
    headers = auth(tokens["cs1"], **{"Idempotency-Key": "report-0001"})
    first = client.post("/cases", json=REPORT_JSON, headers=headers)
    again = client.post("/cases", json=REPORT_JSON, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert len(desk.cases.find()) == 1
    other = client.post("/cases", json={**REPORT_JSON, "fault": "another"}, headers=headers)
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    number = first.json()["number"]
    act = auth(tokens["cs1"], **{"If-Match": '"1"', "Idempotency-Key": "respond-1"})
    one = client.post(f"/cases/{number}/respond", json={"at": at(5).isoformat()}, headers=act)
    two = client.post(f"/cases/{number}/respond", json={"at": at(5).isoformat()}, headers=act)
    assert one.status_code == two.status_code == 200 and desk.cases.find()[0].version == 2
    # the same key from another member is their own key
    theirs = auth(tokens["m1"], **{"Idempotency-Key": "report-0001"})
    mine = client.post("/cases", json=REPORT_JSON, headers=theirs)
    assert mine.status_code == 201 and len(desk.cases.find()) == 2


def test_the_openapi_document_describes_every_route(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    _, client, _ = served
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    app = client.app
    routes = {(r.path, m.lower()) for r in app.routes  # type: ignore[attr-defined]
              if isinstance(r, Route) and not r.path.startswith("/board")  # HTML: the board
              for m in (r.methods or ()) if m != "HEAD"}  # fmt: skip
    actions = {p for p in document["paths"] if p.startswith("/cases/{ref}/")
               and p not in ("/cases/{ref}/history", "/cases/{ref}/sla")}  # fmt: skip
    documented = {(p, m) for p, ops in document["paths"].items() for m in ops}
    generic = {
        ("/cases/{ref}/{action}", "post"),
        ("/{service}/{method}", "post"),
        ("/{service}/{method}", "get"),
    }  # each of these: every action, below
    assert routes - generic - {("/health", "get"), ("/openapi.json", "get")} <= documented
    assert {a.removeprefix("/cases/{ref}/").replace("-", "_") for a in actions} == set(
        client.app.state.api.actions  # type: ignore[attr-defined]
    )
    assign = document["paths"]["/cases/{ref}/assign"]["post"]
    body = assign["requestBody"]["content"]["application/json"]["schema"]
    assert "engineer" in body["required"] and "by" not in body["properties"]
    case = document["components"]["schemas"]["Case"]
    assert {"id", "number", "status", "milestones"} <= set(case["properties"])
    assert case["properties"]["delays"]["items"] == {"$ref": "#/components/schemas/DelayNotice"}


# ---- a real server ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_aftersales_serve_answers_on_a_loopback_port(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///{tmp_path / "d.db"}"\n'
        f'[serve]\nport = {port}\n', "utf-8")  # fmt: skip
    with ServiceDesk(RULES / "default.policy", f"sqlite:///{tmp_path / 'd.db'}") as desk:
        add_team(desk)
        token = desk.tokens.issue("cs1", by="m1").token
    env = {**os.environ, "AFTERSALES_CONFIG": str(tmp_path / "aftersales.toml")}
    command = [str(Path(sys.executable).parent / "aftersales"), "serve"]
    server = subprocess.Popen(command, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as answer:
                    assert json.load(answer) == {"status": "ok"}
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        body = json.dumps({**REPORT_JSON, "at": None}).encode()
        request = urllib.request.Request(f"{base}/cases", data=body, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201 and json.load(answer)["reported_by"] == "cs1"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/cases", timeout=10)
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_tokens_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    url = f"memory://cli-{uuid.uuid4().hex}" if storage_url == "memory://" else storage_url
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "{url}"\n', "utf-8"
    )
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "e7", "--name", "Chen", "--role", "engineer")
    token = ok("staff", "token", "issue", "e7", "--name", "phone", "--days", "7", "--by", "m1")
    token = token.strip()
    assert token.startswith("as_")
    listed = json.loads(ok("staff", "token", "list", "--format", "json"))
    assert [(t["staff"], t["name"], t["revoked"]) for t in listed] == [("e7", "phone", "")]
    assert token.split("_", 2)[2] not in ok("staff", "token", "list")  # the secret
    code, _, err = run("staff", "token", "issue", "m1", "--by", "e7")
    assert code == 1 and "e7" in err
    with ServiceDesk(RULES / "default.policy", url) as desk:
        assert desk.tokens.staff_of(token).id == "e7"
    ok("staff", "token", "revoke", listed[0]["id"], "--by", "m1")
    with ServiceDesk(RULES / "default.policy", url) as desk, pytest.raises(PermissionDenied):
        desk.tokens.staff_of(token)


@pytest.mark.parametrize(
    ("table", "said"),
    [("port = 0", "port is a whole number from 1 to 65535"),
     ("workers = true", "workers is a whole number"),
     ('host = ""', "host is text"), ("threads = 4", "has no setting 'threads'")],
)  # fmt: skip
def test_serve_settings_are_checked(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "aftersales.toml"
    path.write_text(f'policy = "{RULES / "default.policy"}"\n[serve]\n{table}\n', "utf-8")
    with pytest.raises(ValidationError, match=said):
        load_config(str(path))


# ---- the other services -------------------------------------------------------------------
def test_every_services_actions_and_queries_over_http(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    _, client, tokens = served
    cs1, m1, e7 = (auth(tokens[w]) for w in ("cs1", "m1", "e7"))
    made = client.post("/customers/add", json={"name": "Hengli Mining", "key": "ERP-1",
                                               "at": at(0).isoformat()}, headers=cs1)  # fmt: skip
    assert made.status_code == 200, made.text
    customer = made.json()
    assert customer["name"] == "Hengli Mining" and customer["key"] == "ERP-1"
    assert [c["id"] for c in client.get("/customers/list", headers=e7).json()] == [customer["id"]]
    assert client.get("/customers/by-key", params={"key": "ERP-1"}, headers=e7).json()["id"] == (
        customer["id"])  # fmt: skip
    case = client.post("/cases", json=REPORT_JSON, headers=cs1).json()
    complaint = client.post("/complaints/open", json={
        "source": "call", "summary": "late", "case": case["id"], "at": at(30).isoformat()},
        headers=cs1).json()  # fmt: skip
    assert complaint["owner"] == "m1" and complaint["staff"] == []
    listed = client.get("/complaints/list", params={"status": "open"}, headers=e7).json()
    assert [c["id"] for c in listed] == [complaint["id"]]
    digest = client.get("/feedback/digest", params={"period": "2026-11", "per": "fault_code"},
                        headers=m1).json()  # fmt: skip
    assert digest[0]["key"] == "HYD-PUMP" and digest[0]["complaints"] == 1
    due = client.get("/maintenance/due", params={"within": "86400"}, headers=m1)
    assert due.status_code == 200, due.text
    refused = client.post("/complaints/respond", json={"id": complaint["id"], "response": "x"},
                          headers=e7)  # fmt: skip
    assert refused.status_code == 403
    unknown = client.post("/complaints/explode", json={}, headers=m1)
    assert unknown.status_code == 404 and "/openapi.json" in unknown.json()["detail"]
    not_served = client.get("/sla/tick", headers=m1)  # the desk's own job: not a route
    assert not_served.status_code == 404
    wrong = client.post("/complaints/open", json={"source": "call", "summry": "x"}, headers=cs1)
    assert wrong.status_code == 422 and "it takes source, summary" in wrong.json()["detail"]
    bad = client.get("/complaints/list", params={"opened_in": "last month"}, headers=m1)
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["detail"]
    as_json = client.get("/staff/get", params={"id": "e7"}, headers=e7).json()
    assert as_json["name"] == "Chen"


def test_the_openapi_document_has_every_service_route(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    _, client, _ = served
    document = client.get("/openapi.json").json()
    api = client.app.state.api  # type: ignore[attr-defined]
    for (service, name), _method in api.service_actions.items():
        assert "post" in document["paths"][f"/{service}/{name.replace('_', '-')}"]
    for (service, name), _method in api.service_reads.items():
        assert "get" in document["paths"][f"/{service}/{name.replace('_', '-')}"]
    opened = document["paths"]["/complaints/open"]["post"]
    assert opened["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Complaint"}  # fmt: skip
    assert set(opened["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "source", "summary"}  # fmt: skip


def test_the_boards_language_is_asked_then_the_members_then_the_browsers(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    desk, client, tokens = served
    desk.staff.update("e7", by="m1", language="zh-CN")
    with pytest.raises(ValidationError, match="language is a tag"):
        desk.staff.update("e7", by="m1", language="chinese please")
    client.post("/board/login", data={"token": tokens["e7"]})
    assert "我的报修单" in client.get("/board/mine").text  # their own language
    assert "My cases" in client.get("/board/mine?lang=en").text  # asked
    english = TestClient(client.app)
    english.post("/board/login", data={"token": tokens["cs1"]})
    assert "Report a fault" in english.get("/board/intake").text
    chinese = english.get("/board/intake", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).text
    assert "报修登记" in chinese  # the browser's


def test_the_rules_of_issue_22_over_http(
    served: tuple[ServiceDesk, TestClient, dict[str, str]],
) -> None:
    desk, client, tokens = served
    m1, e7 = auth(tokens["m1"]), auth(tokens["e7"])
    # an expense in a category the policy does not list is refused; a capped one shows both
    karaoke = {"category": "karaoke", "amount": "9999", "date": "2026-11-23", "invoice": "K1"}
    refused = client.post("/expenses/draft", json={"lines": [karaoke]}, headers=e7)
    assert refused.status_code == 422 and "karaoke is not an expense category" in (
        refused.json()["detail"])  # fmt: skip
    # a serious incident: told at once, investigated over HTTP
    incident = client.post("/safety/report-incident", json={
        "happened_at": at(10).isoformat(), "severity": "serious", "description": "slipped",
        "at": at(20).isoformat()}, headers=e7).json()  # fmt: skip
    assert incident["told"] == ["manager", "safety_officer"] and incident["due"]
    done = client.post("/safety/investigate", json={"id": incident["id"], "findings": "wet"},
                       headers=m1)  # fmt: skip
    assert done.status_code == 200 and done.json()["findings"] == "wet"
    # the plan check and a promotion's conditions are reads
    gaps = client.get("/training/plan-check", params={"year": "2027"}, headers=m1).json()
    assert len(gaps) == 4
    eligibility = client.get("/staff/eligibility", params={"id": "e7"}, headers=m1)
    assert eligibility.status_code == 200 and eligibility.json()["conditions"] == []
    # a supplier's record
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1", at=T0)
    record = client.get("/parts/supplier-record", params={"id": "ACME"}, headers=m1).json()
    assert record["deliveries"] == 0 and record["review_due"] is False
