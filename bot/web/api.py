"""The JSON API under /api/: regions, search and guide for the agent console, and the chat proxy for the widget."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
from aiohttp import web

from actions.understanding import items_by_text, understand
from bot.limits import MAX_MESSAGE_CHARS, Limits, RateLimiter
from bot.unavailable import unavailable_reply
from knowledge.bot_texts import say
from knowledge.manifest import Document
from knowledge.query import Conflict, Fact, Gap, Guide, GuideEntry, KnowledgeBase, Region, Source
from knowledge.text import normalize

KB = web.AppKey("kb", KnowledgeBase)
RASA_URL = web.AppKey("rasa_url", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)
LIMITS = web.AppKey("limits", Limits)
LIMITER = web.AppKey("limiter", RateLimiter)
BEHIND_PROXY = web.AppKey("behind_proxy", bool)

MAX_QUERY = 200
SENDER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a NUL breaks the full-text query: control characters → spaces
CHAT_TIMEOUT = aiohttp.ClientTimeout(total=30)
LEVELS = {"province": 0, "city": 1, "county": 2}


class ApiError(Exception):
    """A request the API answers with an error status and a JSON body."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda value: json.dumps(value, ensure_ascii=False))


# Serialisation ---------------------------------------------------------------------------------------------

def source_json(source: Source) -> dict[str, Any]:
    return {"document": source.document, "first_line": source.first_line, "last_line": source.last_line,
            "citation": source.citation}


def fact_json(fact: Fact) -> dict[str, Any]:
    extra = {key: [fact_json(note) for note in value] if key == "notes" else value
             for key, value in fact.extra.items()}
    return {**extra, "text": fact.text, "condition": fact.condition, "source": source_json(fact.source)}


def region_json(region: Region) -> dict[str, Any]:
    return {"id": region.id, "name": region.name, "label": region.label, "level": region.level,
            "province": region.province, "city": region.city, "document": region.document, "unit": region.unit,
            "covered": region.covered, "typed": region.typed}


def document_json(document: Document) -> dict[str, Any]:
    return {"id": document.id, "title": document.title, "short": document.short, "issuer": document.issuer,
            "region": document.region, "year": document.year, "date_note": document.date_note,
            "citation": document.citation, "first_line": document.first_line, "last_line": document.last_line}


def entry_json(entry: GuideEntry) -> dict[str, Any]:
    return {
        "key": entry.key, "code": entry.code, "local_code": entry.local_code, "row": entry.row, "name": entry.name,
        "source": source_json(entry.source),
        "sections": [{"name": name, **fact_json(fact)} for name, fact in entry.sections.items()],
        **{name: [fact_json(fact) for fact in getattr(entry, name)]
           for name in ("process", "materials", "time_limits", "notes", "legal_basis", "online_channels", "forms",
                        "offices", "phones")},
    }


def conflict_json(conflict: Conflict) -> dict[str, Any]:
    return {"id": conflict.id, "code": conflict.code, "aspect": conflict.aspect, "topic": conflict.topic,
            "statements": [fact_json(fact) for fact in conflict.statements],
            "hunan2025": fact_json(conflict.hunan2025) if conflict.hunan2025 else None, "note": conflict.note}


def gap_json(gap: Gap) -> dict[str, Any]:
    return {"id": gap.id, "aspects": gap.aspects, "statement": gap.statement, "offer": gap.offer,
            "evidence": [fact_json(fact) for fact in gap.evidence]}


def guide_json(kb: KnowledgeBase, guide: Guide) -> dict[str, Any]:
    return {
        "code": guide.code, "name": kb.item_name(guide.code),
        "region": region_json(guide.region) if guide.region else None,
        "document": document_json(guide.document), "absent": guide.absent,
        "merged_note": fact_json(guide.merged_note) if guide.merged_note else None,
        "entries": [entry_json(entry) for entry in guide.entries],
        "conflicts": [conflict_json(conflict) for conflict in guide.conflicts],
        "gaps": [gap_json(gap) for gap in guide.gaps],
    }


# Parameters ------------------------------------------------------------------------------------------------

async def json_object(request: web.Request, not_object: str | None = None) -> dict[str, Any]:
    """The request's JSON body: ApiError 400 when it is not JSON, or `not_object` (else web.body_not_object) when it
    is not an object."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, say("web.body_not_json")) from None
    if not isinstance(body, dict):
        raise ApiError(400, not_object or say("web.body_not_object"))
    return body


def sender_of(body: dict[str, Any]) -> str:
    """The body's `sender`: 1–64 letters, digits or _.:- (ApiError 400 otherwise)."""
    sender = body.get("sender")
    if not isinstance(sender, str) or not SENDER.match(sender):
        raise ApiError(400, say("web.bad_sender"))
    return sender


def text_param(request: web.Request, name: str, limit: int, required: bool = True) -> str:
    value = CONTROL.sub(" ", request.query.get(name, "")).strip()
    if required and not value:
        raise ApiError(400, say("web.missing_param", name=name))
    if len(value) > limit:
        raise ApiError(400, say("web.param_too_long", name=name, limit=limit))
    return value


def find_region(kb: KnowledgeBase, value: str) -> Region:
    """A region id from /api/regions, or a place name (typos and aliases included)."""
    try:
        return kb.region(value)
    except KeyError:
        resolution = kb.resolve_region(value)
    if resolution.region:
        return resolution.region
    if resolution.alternatives:
        raise ApiError(400, say("web.ambiguous_region", place=value),
                       alternatives=[region_json(region) for region in resolution.alternatives])
    raise ApiError(404, say("web.unknown_region", place=value))


def find_item(kb: KnowledgeBase, value: str) -> str:
    """An item code or local key, or an item name or alias → the code or key to look up."""
    if value in kb.catalogue or kb.has_item_key(value):
        return value
    matches = kb.find_items(value, limit=1, search=False)
    if not matches:
        raise ApiError(404, say("web.unknown_item", item=value))
    return matches[0].code


def all_regions(kb: KnowledgeBase) -> list[Region]:
    return [kb.region(row[0]) for row in kb.connection.execute("select id from regions order by rowid")]


# Handlers --------------------------------------------------------------------------------------------------

async def regions(request: web.Request) -> web.Response:
    """The region tree: provinces → cities → counties, each with the document that serves it."""
    nodes: dict[str, dict[str, Any]] = {}
    tree: list[dict[str, Any]] = []
    for region in sorted(all_regions(request.app[KB]), key=lambda r: LEVELS[r.level]):
        node = nodes[region.id] = {**region_json(region), "children": []}
        parent = region.id.rpartition("/")[0]
        (nodes[parent]["children"] if parent else tree).append(node)
    return json_response({"regions": tree})


def _without_places(kb: KnowledgeBase, query: str) -> str:
    """The words of a query without the places it names (耒阳 生育 → 生育), for the full-text search."""
    remainder = list(normalize(query).lower())
    for place in kb.find_regions(query):
        remainder[place.start:place.start + len(place.typed)] = " " * len(place.typed)
    return "".join(remainder).strip()


async def search(request: web.Request) -> web.Response:
    """How the assistant reads a free text: its region (the `region` parameter, else the place the text names),
    the items it names or describes, else the full-text search over names and materials, else the items ranked by
    their own text, and the aspects it asks."""
    kb = request.app[KB]
    query = text_param(request, "q", MAX_QUERY)
    chosen = text_param(request, "region", MAX_QUERY, required=False)
    reading = understand(kb, {"text": query})
    alternatives: list[Region] = []
    if chosen:
        region: Region | None = find_region(kb, chosen)
        region_from = "param"
    else:
        region, alternatives = reading.region, reading.ambiguous_regions
        region_from = "text" if region else None
    document = region.document if region is not None and region.covered else None
    items = reading.items or kb.find_items(_without_places(kb, query), limit=10) or \
        items_by_text(kb, query, document, reading.person_type)
    return json_response({
        "query": query,
        "region": region_json(region) if region else None,
        "region_from": region_from,
        "alternatives": [region_json(r) for r in alternatives],
        "items": [{"code": m.code, "name": m.name, "level": m.level, "matched": m.matched, "score": round(m.score, 2),
                   "kind": m.kind} for m in items[:10]],
        "aspects": reading.aspects,
    })


async def guide(request: web.Request) -> web.Response:
    """The full guide of an item for a region: every field with its source, the conflicts and the gaps."""
    kb = request.app[KB]
    item = find_item(kb, text_param(request, "item", MAX_QUERY))
    region = find_region(kb, text_param(request, "region", MAX_QUERY))
    if not region.covered:
        raise ApiError(404, say("web.not_covered", region=region.label), region=region_json(region))
    return json_response(guide_json(kb, kb.guide(item, region)))


def reply_json(reply: dict[str, Any]) -> dict[str, Any]:
    """What the widget shows of one Rasa message: its text, quick-reply buttons and image."""
    shown: dict[str, Any] = {}
    if isinstance(reply.get("text"), str):
        shown["text"] = reply["text"]
    buttons = [{"title": str(button["title"]), "payload": str(button.get("payload") or button["title"])}
               for button in reply.get("buttons") or [] if isinstance(button, dict) and button.get("title")]
    if buttons:
        shown["buttons"] = buttons
    if isinstance(reply.get("image"), str):
        shown["image"] = reply["image"]
    return shown


def client_address(request: web.Request) -> str:
    """The caller's address: nginx's X-Real-IP when the server is behind it (WEB_BEHIND_PROXY), else the peer's."""
    if request.app[BEHIND_PROXY] and request.headers.get("X-Real-IP"):
        return request.headers["X-Real-IP"]
    return request.remote or ""


async def within_limits(request: web.Request, sender: str) -> None:
    """ApiError 429 (with Retry-After) when the client address or the sender sends too many messages a minute."""
    limits, limiter = request.app[LIMITS], request.app[LIMITER]
    wait = await limiter.wait_seconds("chat-address:" + client_address(request), limits.address) \
        or await limiter.wait_seconds("chat-sender:" + sender, limits.sender)
    if wait:
        raise ApiError(429, say("web.slow_down", seconds=wait), retry_after=wait)


async def chat(request: web.Request) -> web.Response:
    """Forward {sender, message} to Rasa's REST webhook; answer with the bot's messages."""
    body = await json_object(request, say("channels.body_not_message"))
    sender, message = sender_of(body), body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ApiError(400, say("web.empty_message"))
    if len(message) > MAX_MESSAGE_CHARS:
        raise ApiError(400, say("web.message_too_long", limit=MAX_MESSAGE_CHARS))
    await within_limits(request, sender)
    url = request.app[RASA_URL].rstrip("/") + "/webhooks/rest/webhook"
    try:
        async with request.app[HTTP].post(url, json={"sender": sender, "message": message,
                                                     "metadata": {"channel": "widget"}},
                                          timeout=CHAT_TIMEOUT) as response:
            if response.status != 200:
                raise ApiError(502, say("web.assistant_status", status=response.status))
            replies = await response.json(content_type=None)
    except asyncio.TimeoutError:
        raise ApiError(504, say("web.assistant_timeout")) from None
    except (aiohttp.ClientError, ValueError):
        raise ApiError(502, say("web.assistant_unreachable")) from None
    if not isinstance(replies, list):
        raise ApiError(502, say("web.assistant_bad_reply"))
    shown = [reply_json(reply) for reply in replies if isinstance(reply, dict)]
    if not any(shown):  # Rasa answered nothing (its actions failed): say so and give the region's phones
        shown = [{"text": unavailable_reply(message, kb=request.app[KB])}]
    return json_response(shown)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/regions", regions)
    app.router.add_get("/api/search", search)
    app.router.add_get("/api/guide", guide)
    app.router.add_post("/api/chat", chat)
