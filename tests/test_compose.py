"""Composing answers (actions/compose.py) from the real knowledge base, without servers: which facts and which source
an answer holds for a real item, region and aspect, and what it says where the documents are silent."""
from __future__ import annotations

import pytest

from actions.compose import Composer, fit, handoff_text, utf8_len
from knowledge.query import KnowledgeBase

HENGYANG = "《衡阳市医疗保障经办政务服务事项办事指南》"
CHENZHOU = "《郴州市医疗保障经办政务服务事项办事指南》"
CHANGSHA = "《长沙市医疗保障经办政务服务事项办事指南》"
HUNAN2025 = "《湖南省医疗保障经办政务服务事项清单（2025年版）》"
HUBEI = "《湖北省医疗保障经办政务服务事项办事指南》"


@pytest.fixture(scope="module")
def composer(kb: KnowledgeBase) -> Composer:
    return Composer(kb, 2048)


def answer(kb: KnowledgeBase, composer: Composer, item: str, region: str, aspects: list[str],
           person: str | None = None, full: bool = False, words: str = "") -> str:
    guide = kb.guide(item, kb.region(region))
    return composer.render(guide, guide.entries[0], aspects, person, full, words)


def sources(text: str) -> list[str]:
    footer = text.splitlines()[-1]
    assert footer.startswith("来源：")
    return footer.removeprefix("来源：").split("、")


def test_a_countys_phones_are_its_own_desks_with_the_city_guide_as_source(kb: KnowledgeBase,
                                                                         composer: Composer) -> None:
    text = answer(kb, composer, "002036004001", "湖南省/衡阳市/耒阳市", ["phone"])
    assert text.startswith("【异地安置退休人员备案｜衡阳市耒阳市】")
    assert "0734-4269955（职工）" in text and "0734-4322176（居民）" in text
    assert "0734-8867038" not in text  # 衡阳市本级's desk
    assert sources(text) == [HENGYANG]


def test_the_person_keeps_only_their_own_desk(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036004001", "湖南省/衡阳市/耒阳市", ["phone"], "职工")
    assert "0734-4269955" in text and "0734-4322176" not in text


def test_chenzhou_gets_the_missing_annex_instead_of_a_phone_and_the_2025_conflict(kb: KnowledgeBase,
                                                                                  composer: Composer) -> None:
    text = answer(kb, composer, "002036007004", "湖南省/郴州市/桂东县", ["phone", "time_limit"])
    assert "办理时限：不超过18个工作日" in text and "附件2" in text
    assert "0735" not in text  # no number is made up
    assert "湖南省2025年版清单此项办理时限为“不超过10个工作日”" in text
    assert sources(text) == [CHENZHOU, HUNAN2025]


def test_a_city_without_its_own_guide_is_answered_from_the_2025_list(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036007004", "湖南省/株洲市", ["time_limit"])
    assert "办理时限：不超过10个工作日" in text and sources(text) == [HUNAN2025]


def test_a_hubei_city_gets_the_hubei_guides_materials_and_time_limit(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036001001", "湖北省/武汉市", ["time_limit", "materials"])
    assert "办理时限：即时办结" in text
    assert "1. 统一社会信用代码证书或单位批准成立的文件" in text
    assert "2. 《基本医疗保险单位参保信息登记表》（加盖单位公章）" in text
    assert sources(text) == [HUBEI]


def test_the_deadline_to_apply_is_not_the_processing_time(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036004005", "湖南省/长沙市/宁乡市", ["deadline"])
    assert "申请期限" in text and "急诊后三个工作日内" in text and "办理时限" not in text
    assert sources(text) == [CHANGSHA]


def test_an_amount_is_never_invented(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036007004", "湖南省/长沙市", ["amount"])
    assert "资料没有写生育津贴的计算办法和发放金额" in text
    assert not any(unit in text for unit in ("元", "块"))


def test_the_supervision_phones_of_the_city(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036004002", "湖南省/衡阳市", ["supervision"])
    assert "监督电话：衡阳市：0734-2668302；衡阳市：0734-2668308" in text


def test_a_countys_office_comes_with_its_phone(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036003001", "湖南省/衡阳市/衡山县", ["office", "phone"])
    assert "办理地点（衡山县）：衡山县工业园政务中心三楼" in text and "衡山县：0734-5810966" in text


def test_materials_show_the_general_ones_and_the_persons_and_offer_the_rest(kb: KnowledgeBase,
                                                                           composer: Composer) -> None:
    entry = kb.guide("002036001002", kb.region("湖南省/衡阳市")).entries[0]  # 职工参保登记: 11 materials
    short = composer.materials(entry, None, False)
    assert len(short) == 1 + 8 + 2 and short[-1] == "另有3项适用于特定情形的材料，回复“全部材料”查看完整清单。"
    assert short[-2].startswith("说明：有效身份证件包括身份证、居住证、户口簿")  # the note on a listed material
    assert len(composer.materials(entry, None, True)) == 1 + len(entry.materials) + 1
    flexible = composer.materials(entry, "灵活就业", False)
    assert flexible[1] == "1. 有效身份证件（灵活就业人员）"
    assert flexible[2] == "2. 《衡阳市灵活就业人员基本医疗保险参保登记表》（灵活就业人员）"


def test_a_guide_without_a_legal_basis_cites_the_2025_lists(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036001002", "湖南省/衡阳市", ["legal_basis"])
    assert "衡阳、郴州、长沙市办事指南没有写各事项的设定依据" in text
    assert "《中华人民共和国社会保险法》第二十三条" in text
    assert sources(text) == [HENGYANG, HUNAN2025]


def test_a_waiting_period_is_quoted_when_asked_when_cover_starts(kb: KnowledgeBase, composer: Composer) -> None:
    entry = kb.guide("002036001002", kb.region("湖南省/衡阳市")).entries[0]
    lines = composer.cover_start(entry, "什么时候能报")
    assert lines[0].startswith("待遇时间：") and "６个月待遇等待期" in lines[0]


def test_what_an_item_does_not_say_is_quoted_from_the_item_of_the_guide_that_says_it(kb: KnowledgeBase,
                                                                                     composer: Composer) -> None:
    text = answer(kb, composer, "002036001007", "湖南省/衡阳市", ["cover_start"],
                  words="灵活就业的 医保断了几个月没交 现在续上 马上能报销吗")
    assert "此项没有写待遇从什么时候开始" in text
    assert "该文件在“职工参保登记”中写道：" in text and "自续费之日起有２个月待遇等待期" in text
    assert sources(text) == [HENGYANG]


def test_a_sentence_of_another_family_is_not_quoted_for_what_an_item_does_not_say(kb: KnowledgeBase,
                                                                                 composer: Composer) -> None:
    text = answer(kb, composer, "002036007004", "湖南省/株洲市", ["deadline"], words="生完孩子多久之内要去申请生育津贴")
    assert "此项没有写办理或缴费的期限" in text
    assert "该文件在" not in text and "20个工作日内告知" not in text  # 减少登记's notice of a death is no answer here


def test_an_answer_fits_its_byte_limit_and_keeps_its_source(kb: KnowledgeBase) -> None:
    small = Composer(kb, 300)
    guide = kb.guide("002036001002", kb.region("湖南省/衡阳市"))
    text = small.render(guide, guide.entries[0], ["materials"], None, True, "")
    assert utf8_len(text) <= 300
    assert "已省略部分" in text and sources(text) == [HENGYANG]


def test_fit_drops_lines_from_the_end_with_a_note() -> None:
    assert fit(["耒阳", "衡阳"], 100) == "耒阳\n衡阳"
    lines = ["一" * 30, "二" * 30, "三" * 30]  # 90 bytes each
    cut = fit(lines, 250)
    assert cut.startswith("一" * 30 + "\n" + "二" * 30 + "\n") and "三" not in cut and cut.endswith("可分项提问）")
    assert utf8_len(cut) <= 250 and fit(lines, 272) == "\n".join(lines)


def test_handoff_gives_the_regions_phones_or_says_what_is_missing(kb: KnowledgeBase) -> None:
    qidong = handoff_text(kb, kb.region("湖南省/衡阳市/祁东县"), None, 2048)
    assert "咨询电话：0734-6286968" in qidong and "监督电话：0734-6373655" in qidong
    leiyang = handoff_text(kb, kb.region("湖南省/衡阳市/耒阳市"), "002036004001", 2048)
    assert "0734-4269955（职工）；0734-4322176（居民）" in leiyang and "0734-4351615" in leiyang
    chenzhou = handoff_text(kb, kb.region("湖南省/郴州市"), None, 2048)
    assert "附件2" in chenzhou and "healthcare.hnybj.com.cn" in chenzhou and "0735" not in chenzhou
    assert "告诉我您的参保地" in handoff_text(kb, None, None, 2048)
    assert "不在我的资料范围内" in handoff_text(kb, kb.region("广东省/佛山"), None, 2048)


def test_a_printed_form_of_the_users_case_says_what_must_come_with_it(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036001002", "湖南省/衡阳市/珠晖区", ["materials"], "灵活就业",
                  words="一直是灵活就业自己交的职工医保 马上到退休年龄了 办医保退休要准备哪些资料")
    assert "《衡阳市灵活就业人员医保退休审批表》上写明：需提供资料：《城镇职工退休待遇核定表》" in text
    employee = answer(kb, composer, "002036001002", "湖南省/衡阳市/珠晖区", ["materials"], "职工",
                      words="单位新来的职工参保要什么材料")
    assert "城镇职工退休待遇核定表" not in employee  # the retirement form is not an employee's


def test_a_note_on_a_listed_material_comes_with_the_materials(kb: KnowledgeBase, composer: Composer) -> None:
    text = answer(kb, composer, "002036007002", "湖南省/张家界市", ["materials"],
                  words="老婆在外地医院生的孩子 住院费没有直接结算 回来报销要准备什么")
    assert "4. 病历资料（加盖医院印章）" in text and "生育医疗费只需要出院记录" in text


def test_a_quantity_the_user_states_is_measured_against_the_condition_with_its_unit(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004002-1", kb.region("湖南省/长沙市"))
    conditions = Composer(kb, 2048).conditions(guide.entries[0], "老公在佛山上班 打算去佛山生 现在怀孕16周 能不能去办备案")
    assert "妊娠20周后至分娩前" in conditions[0]
