"""Choosing among the entries one guide has for an item (actions/entries.py), from the real knowledge base."""
from __future__ import annotations

from actions.entries import choose_entries
from knowledge.query import KnowledgeBase


def keys(kb: KnowledgeBase, item: str, region: str, text: str, person: str | None = None) -> list[str]:
    return [entry.key for entry in choose_entries(kb, kb.guide(item, kb.region(region)), text, person)]


def test_a_situation_of_one_entry_chooses_it_however_far_apart_its_parts_stand(kb: KnowledgeBase) -> None:
    text = "老公在长沙公司交的职工医保 现在调到深圳上班了 深圳那边已经给他参保了 他长沙医保账户里的钱能取出来吗 要带什么"
    assert keys(kb, "002036002003", "湖南省/长沙市", text, "职工") == ["002036002003-1"]  # “异地转移”转出提现


def test_a_word_that_names_the_whole_family_chooses_no_entry(kb: KnowledgeBase) -> None:
    chosen = keys(kb, "002036005001", "湖南省/长沙市/长沙县", "长沙县 特门那个小本本搞丢了 要补办 带么子 去哪里")
    assert "002036005001" not in chosen  # 特门 is every entry's word, not the base entry's situation


def test_the_dead_members_entry_for_a_death(kb: KnowledgeBase) -> None:
    assert keys(kb, "002036002003", "湖南省/长沙市", "我爸去世了 他医保账户里的钱怎么取") == ["002036002003-2"]
