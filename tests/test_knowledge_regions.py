"""Place names → region and serving document (DESIGN.md, "Region routing")."""
from __future__ import annotations

import pytest

from knowledge.query import KnowledgeBase


@pytest.mark.parametrize(
    ("typed", "name", "city", "document"),
    [
        ("来阳", "耒阳市", "衡阳市", "hengyang"),
        ("耒阳的", "耒阳市", "衡阳市", "hengyang"),
        ("衡杨", "衡阳市", "衡阳市", "hengyang"),
        ("衡阳县", "衡阳县", "衡阳市", "hengyang"),
        ("祁东", "祁东县", "衡阳市", "hengyang"),
        ("南岳区", "南岳区", "衡阳市", "hengyang"),
        ("宜章", "宜章县", "郴州市", "chenzhou"),
        ("郴洲", "郴州市", "郴州市", "chenzhou"),
        ("嘉禾县", "嘉禾县", "郴州市", "chenzhou"),
        ("長沙", "长沙市", "长沙市", "changsha"),
        ("浏阳", "浏阳市", "长沙市", "changsha"),
        ("望城区", "望城区", "长沙市", "changsha"),
        ("长沙县", "长沙县", "长沙市", "changsha"),
        ("株洲", "株洲市", "株洲市", "hunan2025"),
        ("株州", "株洲市", "株洲市", "hunan2025"),
        ("湘西", "湘西土家族苗族自治州", "湘西土家族苗族自治州", "hunan2025"),
        ("武汉", "武汉市", "武汉市", "hubei"),
        ("恩施州", "恩施土家族苗族自治州", "恩施土家族苗族自治州", "hubei"),
        ("神农架", "神农架林区", "神农架林区", "hubei"),
    ],
)
def test_place_names_route_to_their_document(kb: KnowledgeBase, typed: str, name: str, city: str,
                                              document: str) -> None:
    region = kb.resolve_region(typed).region
    assert region is not None
    assert (region.name, region.city, region.document) == (name, city, document)


def test_a_county_wins_over_its_city_in_one_sentence(kb: KnowledgeBase) -> None:
    region = kb.resolve_region("衡阳耒阳的异地安置备案").region
    assert region.name == "耒阳市" and region.unit == "耒阳市"


def test_gaoxinqu_alone_is_ambiguous_between_two_cities(kb: KnowledgeBase) -> None:
    resolution = kb.resolve_region("高新区")
    assert resolution.region is None
    assert sorted(r.city for r in resolution.alternatives) == ["衡阳市", "长沙市"]


@pytest.mark.parametrize(("typed", "city"), [("衡阳高新区", "衡阳市"), ("长沙 高新区", "长沙市"), ("衡阳市高新区", "衡阳市")])
def test_gaoxinqu_is_qualified_by_the_city(kb: KnowledgeBase, typed: str, city: str) -> None:
    region = kb.resolve_region(typed).region
    assert region.name == "高新区" and region.city == city


@pytest.mark.parametrize("typed", ["佛山", "广东佛山", "北京", "海口"])
def test_places_outside_hunan_and_hubei_are_known_but_not_covered(kb: KnowledgeBase, typed: str) -> None:
    region = kb.resolve_region(typed).region
    assert region is not None and not region.covered


def test_unknown_text_names_no_place(kb: KnowledgeBase) -> None:
    assert kb.resolve_region("异地就医备案要什么材料").region is None


def test_city_level_units_are_named_as_the_documents_name_them(kb: KnowledgeBase) -> None:
    assert kb.resolve_region("衡阳").region.unit == "衡阳市"
    assert kb.resolve_region("长沙市本级").region.unit == "市本级"


@pytest.mark.parametrize(("typed", "name"), [("横阳 我辞职了", "衡阳市"), ("隋州 我是单位女职工", "随州市"),
                                             ("开富区 做了结扎", "开福区"), ("琛州的", "郴州市"), ("横阳市", "衡阳市")])
def test_a_place_typed_with_homophones_is_that_place(kb: KnowledgeBase, typed: str, name: str) -> None:
    assert kb.resolve_region(typed).region.name == name


@pytest.mark.parametrize("typed", ["账户异常怎么办", "可以自行申请吗", "实验室的员工", "报销比例一样吗"])
def test_common_words_that_sound_like_a_place_name_no_place(kb: KnowledgeBase, typed: str) -> None:
    assert kb.resolve_region(typed).region is None  # 异常/宜昌, 自行/资兴, 实验/十堰: the last character differs
