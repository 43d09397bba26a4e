"""The operations console on the web server: pages under /ops (login required), their JSON API under /ops/api/, and
the public answer feedback POST /api/feedback.

Every write needs a session's CSRF token in the X-CSRF-Token header (the login: a JSON body, which no cross-site
form can send, and no foreign Origin); cookies are HttpOnly and SameSite=Strict. Operators read and label; admins
also export and manage users.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from actions.understanding import ASPECTS, items_by_text, understand
from bot.ops import auth, labels, reports
from bot.ops.store import OpsStore
from bot.web.api import KB, RASA_URL, ApiError, json_object, json_response, region_json, sender_of, within_limits
from bot.web.pages import static_file
from knowledge.bot_texts import say

STORE = web.AppKey("ops_store", OpsStore)
COOKIE = "ops_session"
PAGES = {"/ops": "ops.html", "/ops/inbox": "inbox.html"}
ASSETS = {"/ops/login": "login.html", "/ops/ops.js": "ops.js", "/ops/ops.css": "ops.css",
          "/ops/vendor/chart.umd.min.js": "vendor/chart.umd.min.js"}
MAX_COMMENT = 200
MAX_RANGE_DAYS = 366
ABANDON_SECONDS = float(os.environ.get("OPS_ABANDON_MINUTES", "30")) * 60
PARSE_TIMEOUT = aiohttp.ClientTimeout(total=10)


def address(request: web.Request) -> str:
    return request.headers.get("X-Real-IP") or request.remote or ""


def current(request: web.Request) -> auth.Session | None:
    return auth.session(request.app[STORE], request.cookies.get(COOKIE))


def require(request: web.Request, role: str = "operator", write: bool = False) -> auth.Session:
    """The caller's session: 401 without one, 403 for a role below `role` or, on a write, without the CSRF token
    or from another origin."""
    found = current(request)
    if found is None:
        raise ApiError(401, say("ops.login_required"))
    if role == "admin" and found.role != "admin":
        raise ApiError(403, say("ops.admin_required"))
    if write:
        same_origin(request)
        if not hmac.compare_digest(request.headers.get("X-CSRF-Token", ""), found.csrf):
            raise ApiError(403, say("ops.bad_csrf"))
    return found


def same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise ApiError(403, say("ops.cross_site"))


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(400, say("ops.body_not_json"))
    return await json_object(request)


def day_param(request: web.Request, name: str, default: date) -> date:
    value = request.query.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, say("ops.bad_day", name=name)) from None


def range_params(request: web.Request) -> tuple[date, date, dict[str, str]]:
    today = datetime.now(reports.zone()).date()
    end = day_param(request, "to", today)
    start = day_param(request, "from", end - timedelta(days=6))
    if start > end or (end - start).days >= MAX_RANGE_DAYS:
        raise ApiError(400, say("ops.bad_range", days=MAX_RANGE_DAYS))
    filters = {key: request.query[key][:128] for key in ("channel", "region") if request.query.get(key)}
    return start, end, filters


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Database work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args, **kwargs))


# Pages -----------------------------------------------------------------------------------------------------

async def page(request: web.Request) -> web.StreamResponse:
    if current(request) is None:
        raise web.HTTPSeeOther("/ops/login")
    return static_file(PAGES[request.path])


async def asset(request: web.Request) -> web.Response:
    return static_file(ASSETS[request.path])


# Session ---------------------------------------------------------------------------------------------------

async def login(request: web.Request) -> web.Response:
    same_origin(request)
    body = await json_body(request)
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or len(name) > 64 or len(password) > 256:
        raise ApiError(400, say("ops.name_and_password_required"))
    store = request.app[STORE]
    try:
        token, session = await in_thread(auth.login, store, name, password)
    except auth.AuthError as refused:
        await in_thread(store.log, name[:64], "login_failed", str(refused), address(request))
        raise ApiError(401, str(refused)) from None
    await in_thread(store.log, name, "login", session.role, address(request))
    response = json_response({"name": session.user, "role": session.role, "csrf": session.csrf})
    response.set_cookie(COOKIE, token, path="/ops", httponly=True, samesite="Strict",
                        secure=os.environ.get("OPS_COOKIE_SECURE", "") == "1", max_age=auth.SESSION_SECONDS)
    return response


async def logout(request: web.Request) -> web.Response:
    session = require(request, write=True)
    store = request.app[STORE]
    await in_thread(auth.logout, store, request.cookies[COOKIE])
    await in_thread(store.log, session.user, "logout", "", address(request))
    response = json_response({"ok": True})
    response.del_cookie(COOKIE, path="/ops")
    return response


async def me(request: web.Request) -> web.Response:
    session = require(request)
    return json_response({"name": session.user, "role": session.role, "csrf": session.csrf,
                          "aspects": list(labels.ASPECT_INTENTS)})


# Dashboard, inbox, export ----------------------------------------------------------------------------------

async def stats(request: web.Request) -> web.Response:
    require(request)
    start, end, filters = range_params(request)
    store = request.app[STORE]
    await in_thread(store.ingest)
    return json_response(await in_thread(reports.stats, store, request.app[KB], start, end, **filters))


async def inbox(request: web.Request) -> web.Response:
    require(request)
    start, end, filters = range_params(request)
    store = request.app[STORE]
    await in_thread(store.ingest)
    groups = await in_thread(reports.inbox, store, start, end, ABANDON_SECONDS, **filters)
    return json_response({"from": start.isoformat(), "to": end.isoformat(), "groups": groups})


async def export(request: web.Request) -> web.Response:
    session = require(request, role="admin")
    start, end, filters = range_params(request)
    store = request.app[STORE]
    await in_thread(store.ingest)
    text = await in_thread(reports.export_csv, store, start, end, **filters)
    await in_thread(store.log, session.user, "export", f"{start}..{end} {json.dumps(filters)}",
                    address(request))
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="turns-{start}-{end}.csv"'})


async def label(request: web.Request) -> web.Response:
    session = require(request, write=True)
    body = await json_body(request)
    turn_ids = body.get("turn_ids")
    if not isinstance(turn_ids, list) or not turn_ids or not all(isinstance(i, int) for i in turn_ids):
        raise ApiError(400, say("ops.bad_turn_ids"))
    store, kb = request.app[STORE], request.app[KB]
    turn = await in_thread(store.turn, turn_ids[0])
    if turn is None:
        raise ApiError(404, say("ops.no_such_turn"))
    values = {key: body.get(key) if isinstance(body.get(key), str) and body.get(key) else None
              for key in ("decision", "item", "aspect", "region", "phrase")}
    decision = labels.Label(turn["text"], values["decision"] or "", values["item"], values["aspect"],
                            values["region"], values["phrase"])
    try:
        written = await in_thread(labels.save, kb, decision, session.user)
    except labels.LabelError as bad:
        raise ApiError(400, str(bad)) from None
    await in_thread(store.mark_reviewed, turn_ids)
    await in_thread(store.log, session.user, "label", json.dumps(
        {"turns": turn_ids, **values, "files": written}, ensure_ascii=False), address(request))
    return json_response({"written": written, "reviewed": turn_ids})


async def try_sentence(request: web.Request) -> web.Response:
    """How the current model (Rasa's /model/parse) and the item ranking read a text."""
    require(request)
    text = request.query.get("q", "").strip()
    if not text or len(text) > 200:
        raise ApiError(400, say("ops.bad_sentence_length"))
    kb = request.app[KB]
    url = request.app[RASA_URL].rstrip("/") + "/model/parse"
    parse: dict[str, Any] = {"text": text}
    try:
        async with aiohttp.ClientSession(timeout=PARSE_TIMEOUT) as client:
            async with client.post(url, params={"token": os.environ.get("RASA_AUTH_TOKEN", "")},
                                   json={"text": text}) as response:
                if response.status == 200:
                    parse = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        parse = {"text": text}
    reading = understand(kb, {"text": text, "intent": parse.get("intent") or {},
                              "entities": parse.get("entities") or []})
    document = reading.region.document if reading.region is not None and reading.region.covered else None
    ranked = reading.items or items_by_text(kb, text, document, reading.person_type)
    return json_response({
        "text": text, "model": "intent" in parse,
        "intent": parse.get("intent"), "entities": [{"entity": e.get("entity"), "value": e.get("value")}
                                                    for e in parse.get("entities") or []],
        "aspects": reading.aspects, "region": region_json(reading.region) if reading.region else None,
        "items": [{"code": m.code, "name": m.name, "score": round(m.score, 2), "kind": m.kind} for m in ranked[:10]],
    })


async def catalogue(request: web.Request) -> web.Response:
    """Items and aspects to choose from when labelling."""
    require(request)
    kb = request.app[KB]
    return json_response({"items": [{"code": code, "name": kb.item_name(code)} for code in sorted(kb.catalogue)],
                          "aspects": [aspect for aspect in ASPECTS if aspect in labels.ASPECT_INTENTS]})


# Users and audit (admins) ----------------------------------------------------------------------------------

async def list_users(request: web.Request) -> web.Response:
    require(request, role="admin")
    return json_response({"users": await in_thread(auth.list_users, request.app[STORE])})


async def add_user(request: web.Request) -> web.Response:
    session = require(request, role="admin", write=True)
    body = await json_body(request)
    name, role, password = body.get("name"), body.get("role"), body.get("password")
    if not all(isinstance(value, str) for value in (name, role, password)):
        raise ApiError(400, say("ops.user_fields_required"))
    store = request.app[STORE]
    try:
        await in_thread(auth.add_user, store, name, role, password)
    except auth.AuthError as bad:
        raise ApiError(400, str(bad)) from None
    await in_thread(store.log, session.user, "user_add", f"{name} {role}", address(request))
    return json_response({"name": name, "role": role}, 201)


async def remove_user(request: web.Request) -> web.Response:
    session = require(request, role="admin", write=True)
    name = request.match_info["name"]
    store = request.app[STORE]
    if not await in_thread(auth.remove_user, store, name):
        raise ApiError(404, say("ops.no_such_user"))
    await in_thread(store.log, session.user, "user_remove", name, address(request))
    return json_response({"removed": name})


async def audit_log(request: web.Request) -> web.Response:
    require(request, role="admin")
    return json_response({"audit": await in_thread(request.app[STORE].audit_log)})


# Public feedback -------------------------------------------------------------------------------------------

async def feedback(request: web.Request) -> web.Response:
    """POST /api/feedback {"sender", "rating": "up"|"down", "comment"?}: for the sender's latest answer."""
    body = await json_object(request)
    sender, rating, comment = sender_of(body), body.get("rating"), body.get("comment")
    if rating not in ("up", "down"):
        raise ApiError(400, say("ops.bad_rating"))
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise ApiError(400, say("ops.comment_too_long", limit=MAX_COMMENT))
    await within_limits(request, sender)
    turn_id = await in_thread(request.app[STORE].feedback, sender, rating,
                              " ".join(comment.split()) if comment else None)
    if turn_id is None:
        raise ApiError(404, say("ops.no_answer_yet"))
    return json_response({"ok": True}, 201)


def add_routes(app: web.Application, store: OpsStore) -> None:
    app[STORE] = store
    for path in PAGES:
        app.router.add_get(path, page)
    for path in ASSETS:
        app.router.add_get(path, asset)
    app.router.add_post("/ops/api/login", login)
    app.router.add_post("/ops/api/logout", logout)
    app.router.add_get("/ops/api/me", me)
    app.router.add_get("/ops/api/stats", stats)
    app.router.add_get("/ops/api/inbox", inbox)
    app.router.add_get("/ops/api/export.csv", export)
    app.router.add_post("/ops/api/label", label)
    app.router.add_get("/ops/api/try", try_sentence)
    app.router.add_get("/ops/api/catalogue", catalogue)
    app.router.add_get("/ops/api/users", list_users)
    app.router.add_post("/ops/api/users", add_user)
    app.router.add_delete("/ops/api/users/{name}", remove_user)
    app.router.add_get("/ops/api/audit", audit_log)
    app.router.add_post("/api/feedback", feedback)
