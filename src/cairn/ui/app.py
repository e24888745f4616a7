"""The dashboard's web application (Starlette): read-only pages of one workspace, kept live by a
change token the page polls.

Routes: ``/`` (a whole page; ``?view=`` picks the view), ``/fragment`` (the same view's markup
alone, which the page swaps in when the store changed), ``/api/token`` (the change token: one
cheap read), ``/static/ui.js`` and ``/static/ui.css``. Only GET and HEAD are served.

Safety, in :class:`Guard`: a token (when one is set) in a cookie, an ``Authorization: Bearer``
header or once in ``?token=`` (answered with the cookie and a redirect that drops it); without a
token only loopback ``Host`` names are served (a DNS-rebinding page cannot read it); every answer
carries a strict Content-Security-Policy (scripts only from this server, no inline script or
style, no frames, no outside connections) and is never cached.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cairn.ui import data, data_more, pages, pages_more
from cairn.ui.html import e, set_secrets, shell

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "cairn_ui"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
STATIC = {"ui.js": "text/javascript; charset=utf-8", "ui.css": "text/css; charset=utf-8"}


class Guard:
    """ASGI middleware: methods, Host, token, and the security headers on every answer."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        refused = self._refusal(scope)
        if refused is not None:
            await refused(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def _refusal(self, scope: Scope) -> Response | None:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("read-only: only GET is served\n", 405)
        headers = dict(scope.get("headers", []))
        if self.token is None:
            host = headers.get(b"host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in LOOPBACK_NAMES:
                return PlainTextResponse(
                    "this dashboard answers only on 127.0.0.1 or localhost; to serve another "
                    "name, start it with --token\n",
                    421,
                )
            return None
        given = _cookie(headers.get(b"cookie", b"").decode("latin-1"))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query and _same(query["token"], self.token):
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            # Never "//host/...": a path that starts so would redirect to another site.
            here = "/" + str(scope["path"]).lstrip("/")
            resp = Response(status_code=303, headers={"location": here + "?" + rest})
            resp.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return resp
        if given is not None and _same(given, self.token):
            return None
        return PlainTextResponse(
            "this dashboard needs its token: open the address `cairn ui` printed "
            "(it ends in ?token=…)\n",
            401,
        )


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None and value != "" else default
    except ValueError:
        return default


Rendered = tuple[int, str, str, str, str]  # status, view (for the navigation), title, body, token


def render_view(ws: Workspace, q: dict[str, str]) -> Rendered:
    """The view the query names."""
    view = q.get("view") or "overview"
    page = max(_int(q.get("page"), 1) or 1, 1)
    if view == "overview":
        d = data.overview(ws, page=page)
        return (200, view, *pages.render_overview(d), d["token"])
    if view == "task":
        found = data.task_detail(ws, q.get("id", ""))
        if found is None:
            return _missing(ws, "no task by that id; pick one from the list")
        return (200, "overview", *pages.render_task(found), found["token"])
    if view == "checkpoint":
        found = data.checkpoint_view(
            ws,
            q.get("task", ""),
            q.get("kind", ""),
            _int(q.get("v")),
            _int(q.get("a")),
            _int(q.get("b")),
        )
        if found is None:
            return _missing(ws, "no such checkpoint; pick one from its task's page")
        return (200, "overview", *pages.render_checkpoint(found), found["token"])
    if view == "reviews":
        d = data_more.reviews(ws, page=page)
        return (200, view, *pages_more.render_reviews(d), d["token"])
    others: dict[str, tuple[Callable[[Workspace], dict[str, Any]], Callable[..., tuple[str, str]]]]
    others = {
        "compactions": (data_more.compactions, pages_more.render_compactions),
        "budget": (data_more.budget, pages_more.render_budget),
        "runs": (data_more.runs, pages_more.render_runs),
    }
    if view in others:
        read, render = others[view]
        d = read(ws)
        return (200, view, *render(d), d["token"])
    return _missing(ws, "no such view; pick one above")


def _missing(ws: Workspace, what: str) -> Rendered:
    body = f'<h1>Not found</h1><p class="bad">{e(what)}</p>'
    return 404, "overview", "Not found", body, data.token(ws)


def create_app(ws: Workspace, *, token: str | None = None) -> Starlette:
    """The dashboard of ``ws``; with ``token``, every request must carry it."""
    from cairn.models.base import env_secrets

    set_secrets([*env_secrets(), *([token] if token else [])])

    def _page(request: Request, whole: bool) -> Response:
        q = dict(request.query_params)
        status, view, title, body, tok = render_view(ws, q)
        text = shell(view, title, body, tok, str(ws.root)) if whole else body
        return Response(
            text,
            status,
            media_type="text/html; charset=utf-8",
            headers={"x-cairn-token": tok},
        )

    async def page(request: Request) -> Response:
        return await run_in_threadpool(_page, request, True)

    async def fragment(request: Request) -> Response:
        return await run_in_threadpool(_page, request, False)

    async def api_token(request: Request) -> Response:
        return JSONResponse({"token": await run_in_threadpool(data.token, ws)})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found\n", 404)
        body = resources.files("cairn.ui").joinpath("static", name).read_bytes()
        return Response(body, media_type=STATIC[name])

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET", "HEAD"]),
            Route("/fragment", fragment, methods=["GET", "HEAD"]),
            Route("/api/token", api_token, methods=["GET", "HEAD"]),
            Route("/static/{name}", static, methods=["GET", "HEAD"]),
        ]
    )
    app.add_middleware(Guard, token=token)
    return app
