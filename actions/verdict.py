"""The verdict at a leaf of an eligibility tree: the item, what the documents say, and how to apply."""
from __future__ import annotations

from typing import Iterable

from actions.compose import GENERAL_ITEM, Composer, gap_reply_for_absent_item, utf8_len
from actions.config import MAX_REPLY_BYTES
from actions.entries import choose_entries
from knowledge.bot_texts import say
from knowledge.codes import catalogue_code
from knowledge.manifest import provincial_list
from knowledge.query import KnowledgeBase, Region
from knowledge.trees import Leaf, Tree


def verdict_text(kb: KnowledgeBase, tree: Tree, leaf: Leaf, region: Region, asked: list[str] | None = None,
                 said: str = "", asked_item: str | None = None) -> tuple[str, str | None]:
    """The verdict for `leaf` in the user's region: what applies, what the documents say (the Hunan 2025 list's
    differing rules too, for the city guides), then the item's materials, where, how and how long — or the
    aspects the user `asked` about as well; among the item's entries, the one the leaf's words and what the user
    `said` point to. Where the user asked about another item (`asked_item`), whom that one serves, in its own
    words. Returns the text and the entry the conversation goes on about."""
    serving = kb.guide(tree.item or GENERAL_ITEM, region).document  # the document that serves the region
    lines = [say("eligibility.verdict_header", region=region.label),
             say("eligibility.verdict", verdict=leaf.verdict_for(serving.id))]
    item = leaf.item_for(serving.id)
    if asked_item is not None and item is not None and catalogue_code(asked_item) != item:
        lines += _whom_it_serves(kb, asked_item, region)
    if item is None:
        lines += [f"{rule.say}（{rule.citation}）" for rule in leaf.rules_for(serving.id)]
        lines.append(say("answer.sources", citations=serving.citation))
        return "\n".join(lines), None
    guide = kb.guide(item, region)
    document = guide.document
    rules = leaf.rules_for(document.id) + (leaf.rules_for(provincial_list().id) if document.is_city_guide else [])
    if guide.absent or (leaf.documents and document.id not in leaf.documents):
        lines.append(gap_reply_for_absent_item(guide, leaf.name or kb.item_name(item)))
        lines += [f"{rule.say}（{rule.citation}）" for rule in rules]
        return "\n".join(lines), None
    lines += [f"{rule.say}（{rule.citation}）" for rule in rules]
    entry = choose_entries(kb, guide, f"{leaf.words or kb.item_name(item)} {said}", None)[0]
    head = "\n".join(lines)
    aspects = [aspect for aspect in asked or [] if aspect != "overview"] + list(leaf.aspects)
    composer = Composer(kb, MAX_REPLY_BYTES - utf8_len(head) - 1)
    body = composer.render(guide, entry, list(dict.fromkeys(aspects)), None, False, f"{leaf.words} {said}".strip())
    return f"{head}\n{body}", entry.key


def _whom_it_serves(kb: KnowledgeBase, item: str, region: Region) -> list[str]:
    """The 服务对象 of an item the user asked about that the verdict does not name (why it is not theirs)."""
    guide = kb.guide(item, region)
    if guide.absent:
        return []
    return _unique_lines(say("eligibility.whom_it_serves", item=entry.name, text=served.text)
                         for entry in guide.entries if (served := entry.section("served")) is not None)


def _unique_lines(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))
