"""The web server: the demo page with the help widget (/), the agent console (/agent) and the JSON API (/api/).

Usage: python -m bot.web.server   (env WEB_PORT, default 8080; WEB_HOST, default 0.0.0.0;
RASA_URL, default http://localhost:5005, where /api/chat forwards to the REST channel;
RATE_LIMIT_SENDER / RATE_LIMIT_ADDRESS and REDIS_* for /api/chat's limits (bot/limits.py);
WEB_BEHIND_PROXY=1 takes the client address from nginx's X-Real-IP; the operations console under /ops:
OPS_DB, TRACKER_DB, OPS_SENDER_SALT, see bot/ops/store.py).
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.limits import MAX_BODY_BYTES, Limits, rate_limiter, redis_client
from bot.ops import web as ops_web
from bot.ops.store import OpsStore
from bot.web import api
from bot.web.pages import static_file
from knowledge.bot_texts import say
from knowledge.query import KnowledgeBase, KnowledgeBaseError

PAGES = {"/": "index.html", "/agent": "agent.html", "/widget.js": "widget.js", "/widget.css": "widget.css",
         "/demo.css": "demo.css", "/agent.js": "agent.js", "/agent.css": "agent.css"}
# Our pages carry bot.web.pages.PAGE_POLICY; everything else (JSON, scripts, styles) gets the strictest policy,
# which a browser applies if it is ever opened as a document.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return static_file(name)
    return handler


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors as JSON: ours (ApiError) and aiohttp's (unknown route, wrong method, body too large)."""
    try:
        return await handler(request)
    except api.ApiError as error:
        response = api.json_response(error.body, error.status)
        if "retry_after" in error.body:
            response.headers["Retry-After"] = str(error.body["retry_after"])
        return response
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        ours = {404: say("web.no_such_route"), 405: say("web.method_not_allowed"), 413: say("web.body_too_large")}
        return api.json_response({"error": ours.get(error.status, error.reason)}, error.status)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors included: no MIME sniffing, no referrer, no framing, a CSP."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Content-Security-Policy", OTHER_POLICY)


def create_app(kb: KnowledgeBase, rasa_url: str, limits: Limits = Limits(), redis: Redis | None = None,
               behind_proxy: bool = False, ops: OpsStore | None = None) -> web.Application:
    """The web app over a knowledge base, forwarding chat messages to the Rasa server at `rasa_url`, within
    `limits` counted in `redis` (else in this process); `behind_proxy`: the client address is nginx's X-Real-IP;
    with `ops`, the operations console (/ops) and the answer feedback (/api/feedback)."""
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[api.KB] = kb
    app[api.RASA_URL] = rasa_url
    app[api.LIMITS] = limits
    app[api.LIMITER] = rate_limiter(redis)
    app[api.BEHIND_PROXY] = behind_proxy

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[api.HTTP] = session
            yield
        if redis is not None:
            await redis.close()

    app.cleanup_ctx.append(http_client)
    app.on_response_prepare.append(_security_headers)
    for route, name in PAGES.items():
        app.router.add_get(route, _static(name))
    api.add_routes(app)
    if ops is not None:
        ops_web.add_routes(app, ops)
    return app


@contextmanager
def serving(app: web.Application, host: str, port: int) -> Iterator[str]:
    """Serve `app` from a background thread (tests, embedding); yield its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, host, port).start())
    thread = threading.Thread(target=loop.run_forever, name=f"web:{port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        loop.close()


def main() -> int:
    try:
        kb = KnowledgeBase()
    except KnowledgeBaseError as error:
        print(error, file=sys.stderr)
        return 1
    app = create_app(kb, os.environ.get("RASA_URL", "http://localhost:5005"), Limits.load(), redis_client(),
                     os.environ.get("WEB_BEHIND_PROXY", "").strip().lower() in ("1", "true", "yes", "on"),
                     OpsStore.from_environment(kb))
    web.run_app(app, host=os.environ.get("WEB_HOST", "0.0.0.0"), port=int(os.environ.get("WEB_PORT", "8080")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
