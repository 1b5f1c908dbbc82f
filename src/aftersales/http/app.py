"""The HTTP face of a desk: an ASGI application (Starlette) whose routes call the SDK, so
the same actions, permissions and errors hold over HTTP.

Every request but ``/health`` and ``/openapi.json`` carries ``Authorization: Bearer
<token>`` (``aftersales staff token issue``): the token decides who acts, and the desk's
permission checks apply to that member. A case's version is its ETag; an action on a case
needs ``If-Match`` with it (428 without, 412 when someone changed the case meanwhile). A
``POST`` with an ``Idempotency-Key`` is done once: the same key with the same request gets the
first answer again (``Idempotent-Replayed: true``), with another request a 422.

The desk is shared by the requests and called one at a time on the event loop's own thread:
its stores serialise writers anyway, and handing each call to a worker thread cost more than
it saved (the interpreter's lock changing hands between the loop and the pool: p99 137 ms at
200 requests/s against 74 ms without, bench/http_load_bench.py). Several processes on one
PostgreSQL scale out.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
import typing
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aftersales.core.convert import to_dict
from aftersales.core.errors import (
    AftersalesError,
    ConflictError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from aftersales.core.model import Case, Staff
from aftersales.core.values import shown
from aftersales.http import services as served
from aftersales.http.board import board_routes
from aftersales.http.problems import from_error, problem
from aftersales.http.schema import Schemas
from aftersales.ports.storage import event_record
from aftersales.services.desk import ServiceDesk

IDEMPOTENCY_KIND = "http_request"
MAX_BODY = 1_000_000
TIMES = ("at", "appointment", "new_eta", "eta", "since", "until")
"""Arguments that are instants: ISO 8601 text with a UTC offset in JSON."""
NOT_ACTIONS = frozenset({"report", "find", "scan", "get", "history", "sla", "by_number",
                         "rules", "matching", "answer_survey", "report_document", "reapply_policy",
                         "close_due", "open_visit", "visit_opened", "judge_stored", "adopt",
                         "keep_in_memory", "forget", "observe", "queue_of"})  # fmt: skip


def case_actions(desk: ServiceDesk) -> dict[str, Callable[..., Case]]:
    """The workflow's actions on one case: the public methods of ``desk.cases`` taking the
    case's id first and who acts (``by``), by name; ``checklist`` is the safety service's."""
    found: dict[str, Callable[..., Case]] = {}
    for name, method in inspect.getmembers(desk.cases, inspect.ismethod):
        if name.startswith("_") or name in NOT_ACTIONS:
            continue
        params = list(inspect.signature(method).parameters)
        if params[:1] == ["case_id"] and "by" in params:
            found[name] = method
    found["checklist"] = desk.safety.checklist
    return found


def _etag(case: Case) -> str:
    return f'"{case.version}"'


def _times(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its instants read (ISO 8601 with an offset; none: refused), as the other
    services' arguments are read."""
    return {k: served.read_value(k, datetime, v, False) if k in TIMES else v
            for k, v in body.items()}  # fmt: skip


class Api:
    """The routes over one desk."""

    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk
        self.lock = threading.Lock()
        self.actions = case_actions(desk)
        self.service_actions = served.actions(desk)
        self.service_reads = served.reads(desk)

    # -- the frame every endpoint runs in --------------------------------------------------
    def call(self, fn: Callable[[], Response]) -> Response:
        with self.lock:
            try:
                return fn()
            except AftersalesError as error:
                return from_error(error)

    def member(self, request: Request) -> Staff:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Unauthenticated
        return self.desk.tokens.staff_of(token.strip())

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ValidationError(f"the request body is over {MAX_BODY:,} bytes")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("the request body is not JSON") from None
        if not isinstance(data, dict):
            raise ValidationError("the request body is a JSON object of the action's arguments")
        if "by" in data or "version" in data:
            raise ValidationError(
                "by and version are not arguments over HTTP: the token says who acts, "
                "If-Match which version of the case"
            )
        return data

    def endpoint(
        self, handler: Callable[[Request, Staff, dict[str, Any]], Response], *, writes: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint: authenticated, its body read, its errors as problems, its POSTs
        idempotent by key, the desk called off the event loop."""

        async def run(request: Request) -> Response:
            try:
                body = await self.body(request) if writes else {}
            except AftersalesError as error:
                return from_error(error)
            raw = json.dumps(body, sort_keys=True, default=str)

            def work() -> Response:
                try:
                    member = self.member(request)
                except _Unauthenticated:
                    return problem(401, "unauthenticated", "send Authorization: Bearer <token> "
                                   "(aftersales staff token issue)",
                                   headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
                key = request.headers.get("idempotency-key") if writes else None
                if key is None:
                    return handler(request, member, body)
                return self.once(key, member, request, raw, lambda: handler(request, member,
                                                                              body))  # fmt: skip

            return self.call(work)

        return run

    def once(
        self, key: str, member: Staff, request: Request, raw: str, make: Callable[[], Response]
    ) -> Response:
        """``make()``'s response the first time ``key`` comes from ``member``; the stored one
        after (an error is not stored: a retry tries again)."""
        if not key or len(key) > 200:
            raise ValidationError("Idempotency-Key is 1 to 200 characters")
        record_id = hashlib.sha256(f"{member.id}\0{key}".encode()).hexdigest()[:40]
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path}\0{raw}".encode()
        ).hexdigest()
        storage = self.desk.storage
        stored = storage.get(IDEMPOTENCY_KIND, record_id)
        if stored is not None:
            if stored.data["request"] != fingerprint:
                raise ValidationError(
                    "this Idempotency-Key was used for another request; use a new key"
                )
            headers = {"Idempotent-Replayed": "true", **stored.data["headers"]}
            return Response(stored.data["body"], stored.data["status"], headers=headers,
                            media_type="application/json")  # fmt: skip
        response = make()
        if 200 <= response.status_code < 300:
            kept = {k: v for k, v in response.headers.items() if k in ("etag", "location")}
            snapshot = {"request": fingerprint, "status": response.status_code,
                        "body": bytes(response.body).decode("utf-8"), "headers": kept}  # fmt: skip
            try:
                with storage.transaction() as tx:
                    answered = [event_record(1, "answered", member.id, self.desk.now(), {})]
                    tx.append(IDEMPOTENCY_KIND, record_id, 0, answered, snapshot)
            except ConflictError:
                pass  # the same key answered meanwhile by another worker: theirs stands
        return response

    # -- cases -----------------------------------------------------------------------------
    def case_id(self, ref: str) -> str:
        return self.desk.cases.by_ref(ref).id

    def case_response(self, case: Case, status: int = 200) -> JSONResponse:
        headers = {"ETag": _etag(case)}
        if status == 201:
            headers["Location"] = f"/cases/{case.number}"
        return JSONResponse(to_dict(case), status, headers=headers)

    def report(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        case = self.desk.cases.report(**_times(body), by=member.id)
        return self.case_response(case, 201)

    def get_case(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        case = self.desk.cases.get(self.case_id(request.path_params["ref"]))
        if request.headers.get("if-none-match") == _etag(case):
            return Response(status_code=304, headers={"ETag": _etag(case)})
        return self.case_response(case)

    def find(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        q = request.query_params
        limit = q.get("limit", "50")
        if not limit.isdigit():
            raise ValidationError(f"limit is a whole number, not {shown(limit)}")
        args = _times({k: q[k] for k in ("since", "until") if k in q})
        cases = self.desk.cases.find(
            status=q.getlist("status") or None, engineer=q.get("engineer"),
            team=q.get("team"), limit=min(int(limit), 1000), after=q.get("after"),
            newest_first=q.get("newest_first") == "true", **args,
        )  # fmt: skip
        return JSONResponse([to_dict(c) for c in cases])

    def history(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        events = self.desk.cases.history(self.case_id(request.path_params["ref"]))
        return JSONResponse([to_dict(e) for e in events])

    def sla(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        now = request.query_params.get("now")
        when = _times({"at": now})["at"] if now else None
        clocks = self.desk.cases.sla(self.case_id(request.path_params["ref"]), when)
        return JSONResponse([
            {"milestone": c.milestone, "state": c.state, "due": to_dict(c.due),
             "met_at": to_dict(c.met_at), "rule": None if c.target is None else c.target.location,
             "excuse": to_dict(c.excuse)} for c in clocks])  # fmt: skip

    def act(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        name = request.path_params["action"].replace("-", "_")
        action = self.actions.get(name)
        if action is None:
            raise _NoRoute(name)
        case = self.desk.cases.get(self.case_id(request.path_params["ref"]))
        match = request.headers.get("if-match")
        if match is None:
            said = f"send If-Match: {_etag(case)} (the case's version, its ETag)"
            return problem(428, "precondition-required", said)
        if match.strip().removeprefix("W/") != _etag(case):
            said = (f"case {case.number} is at version {case.version}, not {match}: someone "
                    "changed it; read it again")  # fmt: skip
            return problem(412, "precondition-failed", said, headers={"ETag": _etag(case)})
        args = _times(body)
        if name != "checklist":
            args["version"] = case.version
        after = action(case.id, **args, by=member.id)
        return self.case_response(after)

    # -- the other services ----------------------------------------------------------------
    def _named(self, request: Request, table: dict[tuple[str, str], Any], what: str) -> Any:
        service = request.path_params["service"].replace("-", "_")
        method = request.path_params["method"].replace("-", "_")
        found = table.get((service, method))
        if found is None:
            raise NotFound(f"no {what} {service}.{method}; /openapi.json lists them")
        return found

    def service_action(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        method = self._named(request, self.service_actions, "action")
        result = method(**served.arguments(method, body), by=member.id)
        return JSONResponse(to_dict(result))

    def service_read(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        method = self._named(request, self.service_reads, "query")
        given: dict[str, Any] = {}
        for key in request.query_params:
            values = request.query_params.getlist(key)
            given[key] = values if len(values) > 1 else values[0]
        return JSONResponse(to_dict(method(**served.arguments(method, given, text=True))))

    # -- staff -----------------------------------------------------------------------------
    def staff(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        return JSONResponse([to_dict(s) for s in self.desk.staff.list()])

    def me(self, request: Request, member: Staff, body: dict[str, Any]) -> Response:
        return JSONResponse(to_dict(member))


class _Unauthenticated(Exception):
    pass


class _NoRoute(PermissionDenied):
    def __init__(self, name: str) -> None:
        super().__init__(f"no case action {name!r}")


def openapi(api: Api) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes, from the SDK's models and signatures."""
    schemas = Schemas()
    case = schemas.of(Case)
    problem_ref = {"application/problem+json": {"schema": {"type": "object"}}}
    errors = {
        str(s): {"description": d, "content": problem_ref}
        for s, d in (
            (401, "no valid token"),
            (403, "the token's member may not"),
            (404, "not found"),
            (409, "not allowed in the case's state, or a conflict"),
            (422, "a value is wrong"),
        )
    }
    secured: list[dict[str, list[str]]] = [{"bearer": []}]

    def op(
        summary: str,
        body: dict[str, Any] | None,
        ok: dict[str, Any],
        status: str = "200",
        **more: Any,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": summary,
            "security": secured,
            "responses": {
                status: {"description": "done", "content": {"application/json": {"schema": ok}}},
                **errors,
            },
            **more,
        }
        if body is not None:
            out["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        return out  # fmt: skip

    ref = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "the case number (AS-2026-000001) or id"}  # fmt: skip
    paths: dict[str, Any] = {
        "/cases": {
            "post": op("report a case", schemas.arguments(api.desk.cases.report, ("by",)),
                       case, "201"),
            "get": op("find cases", None, {"type": "array", "items": case}, parameters=[
                {"name": n, "in": "query", "schema": {"type": "string"}}
                for n in ("status", "engineer", "team", "since", "until", "limit", "after",
                          "newest_first")]),
        },
        "/cases/{ref}": {"get": op("a case (ETag: its version)", None, case, parameters=[ref])},
        "/cases/{ref}/history": {"get": op("a case's events", None, {"type": "array"},
                                           parameters=[ref])},
        "/cases/{ref}/sla": {"get": op("a case's SLA clocks", None, {"type": "array"},
                                       parameters=[ref])},
        "/staff": {"get": op("the team", None, {"type": "array", "items": schemas.of(Staff)})},
        "/me": {"get": op("the member the token acts as", None, schemas.of(Staff))},
    }  # fmt: skip
    match = {"name": "If-Match", "in": "header", "required": True,
             "schema": {"type": "string"}, "description": "the case's ETag"}  # fmt: skip
    key = {"name": "Idempotency-Key", "in": "header", "required": False,
           "schema": {"type": "string"}}  # fmt: skip
    for (service, name), method in sorted(api.service_actions.items()):
        doc = (inspect.getdoc(method) or name).split("\n\n")[0]
        ok = schemas.of(typing.get_type_hints(method).get("return", Any))
        paths[f"/{service}/{name.replace('_', '-')}"] = {
            "post": op(doc, schemas.arguments(method, ("by",)), ok, parameters=[key])
        }
    for (service, name), method in sorted(api.service_reads.items()):
        doc = (inspect.getdoc(method) or name).split("\n\n")[0]
        ok = schemas.of(typing.get_type_hints(method).get("return", Any))
        args = schemas.arguments(method, ("by",))["properties"]
        path = f"/{service}/{name.replace('_', '-')}"
        paths.setdefault(path, {})["get"] = op(doc, None, ok, parameters=[
            {"name": n, "in": "query", "schema": sch} for n, sch in args.items()])  # fmt: skip
    for name, method in sorted(api.actions.items()):
        body = schemas.arguments(method, ("case_id", "by", "version"))
        doc = inspect.getdoc(method) or name
        paths[f"/cases/{{ref}}/{name.replace('_', '-')}"] = {
            "post": op(doc.split("\n\n")[0], body, case, parameters=[ref, match, key])
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "aftersales", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas.components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }  # fmt: skip


def make_app(desk: ServiceDesk) -> Starlette:
    """The ASGI application over ``desk``."""
    api = Api(desk)
    document = openapi(api)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def spec(request: Request) -> Response:
        return JSONResponse(document)

    e = api.endpoint
    routes = [
        Route("/health", health),
        Route("/openapi.json", spec),
        Route("/cases", e(api.report, writes=True), methods=["POST"]),
        Route("/cases", e(api.find, writes=False), methods=["GET"]),
        Route("/cases/{ref}", e(api.get_case, writes=False), methods=["GET"]),
        Route("/cases/{ref}/history", e(api.history, writes=False), methods=["GET"]),
        Route("/cases/{ref}/sla", e(api.sla, writes=False), methods=["GET"]),
        Route("/cases/{ref}/{action}", e(api.act, writes=True), methods=["POST"]),
        Route("/staff", e(api.staff, writes=False), methods=["GET"]),
        Route("/me", e(api.me, writes=False), methods=["GET"]),
        *board_routes(api),
        Route("/{service}/{method}", e(api.service_action, writes=True), methods=["POST"]),
        Route("/{service}/{method}", e(api.service_read, writes=False), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.api = api
    return app


__all__ = ["case_actions", "make_app", "openapi"]
