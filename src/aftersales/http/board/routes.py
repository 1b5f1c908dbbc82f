"""The board's routes (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from aftersales.core.errors import AftersalesError, PermissionDenied, ValidationError
from aftersales.core.model import Case, Staff
from aftersales.core.parts import part_entry
from aftersales.core.vocabulary import CHANNELS
from aftersales.core.workflow import OPEN
from aftersales.http.board.words import WORDS, language

COOKIE = "aftersales_token"
_HERE = resources.files("aftersales.http.board")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_RISK = {"breached": 0, "at_risk": 1, "running": 2}


class Board:
    """The pages over one API (its desk and its lock)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.desk = api.desk

    # -- the frame -------------------------------------------------------------------------
    def page(self, request: Request, name: str, member: Staff | None, **context: Any) -> Response:
        lang = language(request.headers.get("accept-language"), request.query_params.get("lang"),
                        None if member is None else member.language)  # fmt: skip
        flash = request.query_params.get("flash")
        html = _ENV.get_template(f"{name}.html").render(
            w=WORDS[lang], lang=lang, member=member, flash=flash,
            flash_ok=request.query_params.get("ok") == "1", **context)  # fmt: skip
        return HTMLResponse(html)

    def member(self, request: Request) -> Staff | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            return self.desk.tokens.staff_of(token)  # type: ignore[no-any-return]
        except PermissionDenied:
            return None

    def view(self, render: Callable[[Request, Staff], Response]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            def work() -> Response:
                member = self.member(request)
                if member is None:
                    return RedirectResponse("/board/login", 303)
                return render(request, member)

            response: Response = self.api.call(work)
            return response

        return endpoint

    def form(self, act: Callable[[Staff, dict[str, Any]], str], back: str) -> Callable[..., Any]:
        """A form's POST: the action, then back to ``back`` with what happened."""

        async def endpoint(request: Request) -> Response:
            origin = request.headers.get("origin")
            if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
                return Response("cross-site form refused", 403)
            fields: dict[str, Any] = {}
            async with request.form() as data:
                for key in data:
                    got = data.getlist(key)
                    fields[key] = got if key == "items" else got[-1]
            lang = request.query_params.get("lang", "")

            def work() -> Response:
                member = self.member(request)
                if member is None:
                    return RedirectResponse("/board/login", 303)
                try:
                    said, ok = act(member, fields), "1"
                except AftersalesError as error:
                    said, ok = str(error).split("\n")[0][:300], "0"
                target = f"{back}?lang={lang}&ok={ok}&flash={_quote(said)}"
                return RedirectResponse(target, 303)

            response: Response = self.api.call(work)
            return response

        return endpoint

    # -- signing in -----------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        return self.page(request, "login", None)

    async def login(self, request: Request) -> Response:
        async with request.form() as data:
            token = str(data.get("token") or "").strip()

        def work() -> Response:
            try:
                member = self.desk.tokens.staff_of(token)
            except PermissionDenied:
                return RedirectResponse("/board/login?ok=0&flash=token+not+valid", 303)
            home = ("/board/mine" if member.has_role("engineer") and not member.has_role(
                "manager") else "/board/intake" if member.has_role("service_agent")
                else "/board")  # fmt: skip
            response = RedirectResponse(home, 303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/board")
            return response

        response: Response = self.api.call(work)
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/board/login", 303)
        response.delete_cookie(COOKIE, path="/board")
        return response

    # -- the manager ----------------------------------------------------------------------
    def manager(self, request: Request, member: Staff) -> Response:
        now = self.desk.now()
        tz = self.desk.policy.tz
        rows, load = [], {}
        engineers = [s for s in self.desk.staff.list() if s.has_role("engineer")]
        for s in engineers:
            load[s.id] = {"name": s.name, "open": 0, "today": 0, "week": 0}
        today = now.astimezone(tz).date()
        week_end = today + timedelta(days=7 - today.weekday())
        appointments = []
        for case in self.desk.cases.find(status=OPEN, limit=500):
            clocks = self.desk.cases.sla(case.id, now)
            states = {c.state for c in clocks}
            risk = "breached" if "breached" in states else "at_risk" if "at_risk" in states \
                else "running"  # fmt: skip
            due = min((c.due for c in clocks if c.due and c.state in ("running", "at_risk")),
                      default=None)  # fmt: skip
            holder = case.engineer or (f"team {case.team}" if case.team else "-")
            rows.append({"number": case.number, "status": case.status, "risk": risk,
                         "due": _local(due, tz), "holder": holder, "customer": case.customer.name,
                         "fault": case.fault, "sort": (_RISK[risk], due or now)})  # fmt: skip
            if case.engineer in load:
                load[case.engineer]["open"] += 1
                if case.appointment is not None:
                    day = case.appointment.astimezone(tz).date()
                    load[case.engineer]["today"] += day == today
                    load[case.engineer]["week"] += today <= day < week_end
                    if day == today:
                        appointments.append({"time": _local(case.appointment, tz),
                                             "number": case.number, "engineer": case.engineer,
                                             "customer": case.customer.name})  # fmt: skip
        rows.sort(key=lambda r: r["sort"])
        days = []
        start = datetime.combine(today - timedelta(days=29), datetime.min.time(), tz)
        for n in range(30):
            since = start + timedelta(days=n)
            total = self.desk.sla.report(since, since + timedelta(days=1), now=now).total
            rate = total.met_rate
            days.append({"day": f"{since:%m-%d}", "breached": total.breached,
                         "bar": min(100, total.breached * 10),
                         "rate": "-" if rate is None else f"{rate:.0%}",
                         "rate_y": None if rate is None else 110 - rate * 100})  # fmt: skip
        return self.page(request, "manager", member, rows=rows, load=list(load.values()),
                         today=sorted(appointments, key=lambda a: a["time"]), days=days,
                         first_day=days[0]["day"], last_day=days[-1]["day"])  # fmt: skip

    # -- customer service -----------------------------------------------------------------
    def intake(self, request: Request, member: Staff) -> Response:
        queue = self.desk.cases.find(status=("reported", "responded"), limit=200)
        queue = [c for c in queue if c.engineer is None]
        engineers = [s for s in self.desk.staff.list() if s.has_role("engineer")]
        customers = [c.name for c in self.desk.customers.list()][:500]
        serials = [m.serial for m in self.desk.machines.list()][:500]
        return self.page(request, "intake", member, queue=queue, engineers=engineers,
                         customers=customers, serials=serials,
                         severities=self.desk.policy.severities, channels=CHANNELS)  # fmt: skip

    def report(self, member: Staff, f: dict[str, Any]) -> str:
        product = {"serial": f.get("serial") or None, "model": f.get("model") or None}
        case = self.desk.cases.report(
            customer={"name": f.get("customer", "")}, product=product, fault=f.get("fault", ""),
            severity=f.get("severity", ""), channel=f.get("channel", ""),
            contact=f.get("contact") or None, machine_down=f.get("machine_down") == "true",
            by=member.id)  # fmt: skip
        return f"{case.number} ({case.priority})"

    def assign(self, member: Staff, f: dict[str, Any]) -> str:
        case = self._case(f)
        if case.status == "reported":
            case = self.desk.cases.respond(case.id, by=member.id, version=case.version)
        case = self.desk.cases.assign(case.id, engineer=f.get("engineer", ""), by=member.id,
                                      version=case.version)  # fmt: skip
        return f"{case.number}: {case.engineer}"

    # -- the engineer ---------------------------------------------------------------------
    def mine(self, request: Request, member: Staff) -> Response:
        cases = [c for c in self.desk.cases.find(engineer=member.id, limit=200)
                 if c.status in OPEN]  # fmt: skip
        required = self.desk.policy.safety.ppe if self.desk.policy.safety else ()
        tz = self.desk.policy.tz
        return self.page(request, "mine", member, cases=cases,
                         local=lambda when: _local(when, tz),
                         ppe_missing=lambda c: c.ppe_missing(required))  # fmt: skip

    def step(self, member: Staff, f: dict[str, Any]) -> str:
        case = self._case(f)
        cases, by, v = self.desk.cases, member.id, case.version
        name = f.get("step")
        if name == "confirm":
            case = cases.confirm(case.id, by=by, version=v)
        elif name == "contact":
            when = f.get("appointment") or ""
            try:
                appointment = self.desk.policy.local(datetime.fromisoformat(when))
            except ValueError:
                raise ValidationError("give the appointment's date and time") from None
            case = cases.contact(case.id, appointment=appointment, by=by, version=v)
        elif name == "arrive":
            case = cases.arrive(case.id, by=by, version=v)
        elif name == "checklist":
            items = f.get("items") or []
            case = self.desk.safety.checklist(case.id, list(items), by=by)
        elif name == "diagnose":
            case = cases.diagnose(case.id, cause=f.get("cause", ""),
                                  complexity=f.get("complexity", ""), by=by, version=v)  # fmt: skip
        elif name == "complete":
            case = cases.complete(case.id, actions=f.get("actions", ""),
                                  result=f.get("result", ""), parts_used=_parts(f.get("parts")),
                                  by=by, version=v)  # fmt: skip
        elif name == "accept":
            signature = f.get("signature") or None
            case = cases.accept(case.id, signed_by=f.get("signed_by", ""), signature=signature,
                                by=by, version=v)  # fmt: skip
        else:
            raise ValidationError(f"no step {name!r}")
        return f"{case.number}: {case.status}"

    def _case(self, f: dict[str, Any]) -> Case:
        case: Case = self.desk.cases.by_number(str(f.get("case", "")))
        version = str(f.get("version", ""))
        if version and version != str(case.version):
            raise ValidationError(
                f"{case.number} changed since this page was loaded (it is {case.status} now); "
                "look again"
            )
        return case


def _local(when: datetime | None, tz: Any) -> str | None:
    return None if when is None else when.astimezone(tz).strftime("%m-%d %H:%M")


def _quote(text: str) -> str:
    return quote(text)


def _parts(text: Any) -> list[dict[str, Any]]:
    """The form's ``SKU:QTY, SKU, ...``."""
    items = (":".join(p.strip() for p in item.split(":", 1)) for item in str(text or "").split(","))
    return [part_entry(item, "parts") for item in items if item.partition(":")[0]]


def board_routes(api: Any) -> list[Route | Mount]:
    board = Board(api)
    return [
        Route("/board/login", board.login_page, methods=["GET"]),
        Route("/board/login", board.login, methods=["POST"]),
        Route("/board/logout", board.logout, methods=["POST"]),
        Route("/board", board.view(board.manager), methods=["GET"]),
        Route("/board/intake", board.view(board.intake), methods=["GET"]),
        Route("/board/intake", board.form(board.report, "/board/intake"), methods=["POST"]),
        Route("/board/assign", board.form(board.assign, "/board/intake"), methods=["POST"]),
        Route("/board/mine", board.view(board.mine), methods=["GET"]),
        Route("/board/step", board.form(board.step, "/board/mine"), methods=["POST"]),
        Mount("/board/static", StaticFiles(directory=str(_HERE / "static")), name="static"),
    ]


__all__ = ["Board", "board_routes"]
