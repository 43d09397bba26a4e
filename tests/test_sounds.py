"""Names typed with homophones (knowledge/sounds.py and the knowledge base's readers of them)."""
from __future__ import annotations

import pytest

from knowledge.query import KnowledgeBase
from knowledge.sounds import sounds_like


@pytest.mark.parametrize(("typed", "name"), [("横阳", "衡阳"), ("生育经贴", "生育津贴"), ("计化生育", "计划生育"),
                                             ("开富区", "开福区"), ("常沙", "长沙")])
def test_homophones_and_the_sounds_people_confuse_sound_alike(typed: str, name: str) -> None:
    assert sounds_like(typed, name)


@pytest.mark.parametrize(("typed", "name"), [("衡阳", "衡阳"), ("做医保", "缴医保"), ("大学参", "大学生"),
                                             ("hengyang", "衡阳")])
def test_the_same_word_another_sound_or_a_rare_reading_does_not(typed: str, name: str) -> None:
    assert not sounds_like(typed, name)  # 缴 may be read zhuo and 参 shen, but people typing them mean jiao and can


@pytest.mark.parametrize(("typed", "heard"), [
    ("生育经贴要准备什么", "生育津贴要准备什么"),
    ("计化生育医疗费咋报", "计划生育医疗费咋报"),
    ("特药人定填哪张表", "特药认定填哪张表"),
    ("职工参保信息变根 要填什么表", "职工参保信息变更 要填什么表"),
])
def test_an_item_name_typed_with_one_homophone_is_read_as_the_name(kb: KnowledgeBase, typed: str, heard: str) -> None:
    assert kb.with_names_heard(typed) == heard


@pytest.mark.parametrize("typed", ["临武县 开了个药房 想做医保定点药店", "孩子在长沙读大学参加的长沙医保", "生育津贴要什么"])
def test_words_typed_right_are_left_as_they_are(kb: KnowledgeBase, typed: str) -> None:
    assert kb.with_names_heard(typed) == typed
