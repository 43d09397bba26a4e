"""What the console shows: the dashboard's figures for a range of days, the inbox of turns that need a look, and the
CSV export of the turns."""
from __future__ import annotations

import csv
import io
import math
import os
import re
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.ops.store import OpsStore
from bot.privacy import PLACEHOLDER
from knowledge.query import KnowledgeBase
from knowledge.text import normalize

KINDS = ("answer", "clarify", "verdict", "fallback", "out_of_scope", "handoff", "unavailable", "smalltalk")
TOP = 10
SIMILAR = 0.5  # character-pair overlap (Jaccard) from which two texts are one group in the inbox
PUNCTUATION = re.compile(r"[\s\W_]+")
CSV_COLUMNS = ("id", "time", "channel", "sender", "conversation", "text", "intent", "aspects", "items", "region",
               "kind", "answered", "document", "latency_ms", "rating", "comment")


def zone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("OPS_TIMEZONE", "Asia/Shanghai"))


def day_range(start: date, end: date) -> tuple[float, float]:
    """Epoch seconds from the start of `start` to the end of `end`, in the console's time zone."""
    tz = zone()
    return (datetime.combine(start, datetime.min.time(), tz).timestamp(),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), tz).timestamp())


def local(at: float) -> datetime:
    return datetime.fromtimestamp(at, zone())


def percentile(values: list[int], share: float) -> int | None:
    """The nearest-rank percentile of a list."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def stats(store: OpsStore, kb: KnowledgeBase, start: date, end: date, **filters: str) -> dict[str, Any]:
    """Per day and for the whole range: conversations, messages, replies by kind, 👍/👎; top items and regions,
    busiest hours, median and p95 latency."""
    days = {start + timedelta(days=n): {"conversations": set(), "messages": 0, "kinds": Counter(), "up": 0,
                                        "down": 0} for n in range((end - start).days + 1)}
    items, regions, hours, latencies = Counter(), Counter(), Counter(), []
    conversations: set[str] = set()
    for turn in store.turns_between(*day_range(start, end), **filters):
        when = local(turn["at"])
        day = days[when.date()]
        day["conversations"].add(turn["conversation"])
        conversations.add(turn["conversation"])
        day["messages"] += 1
        day["kinds"][turn["kind"]] += 1
        if turn["rating"]:
            day[turn["rating"]] += 1
        items.update(turn["answered"])
        if turn["region_label"]:
            regions[turn["region_label"]] += 1
        hours[when.hour] += 1
        if turn["latency_ms"] is not None:
            latencies.append(turn["latency_ms"])
    per_day = [{"day": day.isoformat(), "conversations": len(v["conversations"]), "messages": v["messages"],
                "kinds": {kind: v["kinds"][kind] for kind in KINDS}, "up": v["up"], "down": v["down"]}
               for day, v in days.items()]
    messages = sum(d["messages"] for d in per_day)
    kinds = {kind: sum(d["kinds"][kind] for d in per_day) for kind in KINDS}
    return {
        "from": start.isoformat(), "to": end.isoformat(), "days": per_day,
        "total": {"conversations": len(conversations), "messages": messages, "kinds": kinds,
                  "shares": {kind: round(count / messages, 3) if messages else 0 for kind, count in kinds.items()},
                  "up": sum(d["up"] for d in per_day), "down": sum(d["down"] for d in per_day)},
        "top_items": [{"code": code, "name": kb.item_name(code), "count": count}
                      for code, count in items.most_common(TOP) if code in kb.catalogue or kb.has_item_key(code)],
        "top_regions": [{"region": label, "count": count} for label, count in regions.most_common(TOP)],
        "hours": [hours[hour] for hour in range(24)],
        "latency": {"median_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
                    "count": len(latencies)},
    }


def reasons(turn: dict[str, Any], abandoned: bool) -> list[str]:
    """Why a turn needs a look (empty: it does not)."""
    found = []
    if turn["kind"] in ("fallback", "out_of_scope", "unavailable"):
        found.append(turn["kind"])
    if turn["menu"]:
        found.append("menu")
    elif turn["kind"] == "clarify" and abandoned:
        found.append("abandoned")
    if turn["rating"] == "down":
        found.append("down")
    return found


def _pairs(text: str) -> set[str]:
    plain = PUNCTUATION.sub("", normalize(text.replace(PLACEHOLDER, "")).lower())
    return {plain[i:i + 2] for i in range(len(plain) - 1)} or {plain}


def inbox(store: OpsStore, start: date, end: date, abandon_seconds: float, **filters: str) -> list[dict[str, Any]]:
    """The turns that need a look (fallback, out of scope, unavailable, the general menu, a clarifying question
    left unanswered for `abandon_seconds`, 👎), not yet reviewed; similar texts grouped, newest first."""
    window = day_range(start, end)
    latest = store.later_turn_senders(window[0])
    now = time.time()
    groups: list[dict[str, Any]] = []
    for turn in sorted(store.turns_between(*window, **filters), key=lambda t: -t["at"]):
        if turn["reviewed"]:
            continue
        abandoned = latest.get(turn["sender"]) == turn["at"] and now - turn["at"] >= abandon_seconds
        why = reasons(turn, abandoned)
        if not why:
            continue
        pairs = _pairs(turn["text"])
        group = next((g for g in groups if len(pairs & g["pairs"]) / len(pairs | g["pairs"]) >= SIMILAR), None)
        if group is None:
            groups.append({"pairs": pairs, "turn": turn, "turn_ids": [turn["id"]], "texts": [turn["text"]],
                           "reasons": why, "channels": [turn["channel"]]})
            continue
        group["turn_ids"].append(turn["id"])
        if turn["text"] not in group["texts"]:
            group["texts"].append(turn["text"])
        group["reasons"] = list(dict.fromkeys(group["reasons"] + why))
        group["channels"] = list(dict.fromkeys(group["channels"] + [turn["channel"]]))
    return [{key: value for key, value in group.items() if key != "pairs"} | {"count": len(group["turn_ids"])}
            for group in groups]


def export_csv(store: OpsStore, start: date, end: date, **filters: str) -> str:
    """The turns of a range as CSV (masked text, hashed senders)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for turn in store.turns_between(*day_range(start, end), **filters):
        writer.writerow([turn["id"], local(turn["at"]).isoformat(timespec="seconds"), turn["channel"],
                         turn["sender"], turn["conversation"], turn["text"], turn["intent"],
                         " ".join(turn["aspects"]), " ".join(item["code"] for item in turn["ranked"]),
                         turn["region"] or "", turn["kind"], " ".join(turn["answered"]), turn["document"] or "",
                         turn["latency_ms"] if turn["latency_ms"] is not None else "", turn["rating"] or "",
                         turn["comment"] or ""])
    return out.getvalue()
