"""Reading what citizens actually type, end to end through the REST channel (the real Rasa server, action server and
knowledge base): items named by a situation, questions the documents do not answer, a 医保 question beside another
matter, a greeting around a question, the whole question answered, and the short answer that completes a question.
Every expected value is the documents' own; the sentences are not in the training data.

Fast checks of the same reading without the servers (actions/understanding.py, knowledge/query.py) are at the end."""
from __future__ import annotations

import itertools

import pytest
from conftest import Servers
from conftest import conversation as talk

from actions.compose import Composer
from actions.understanding import (aspects_in, close_candidates, items_by_text, person_fit, places_as_away, plain,
                                   understand)
from knowledge.query import KnowledgeBase

_senders = itertools.count()


@pytest.fixture(scope="module")
def rest(servers: Servers) -> str:
    return servers.rest_url


def conversation(rest: str, messages: list[str]) -> list[str]:
    return talk(rest, f"understanding-{next(_senders)}", messages)


# message → what the one reply must contain (the item found from the situation, and that document's own facts)
SITUATIONS = {
    "衡山县的 我妈居民医保上名字登记错了一个字 想改过来 要准备什么":
        ["城乡居民参保信息变更登记", "衡阳市基本医疗保险城乡居民参保信息变更登记表"],
    "孝感 我在外地医院做了结扎手术 当时没能直接结算 这笔钱怎么报": ["计划生育医疗费支付", "湖北省"],
    "郴州 我们公司换了法人 单位医保信息要咋个改 要么子材料": ["郴州市基本医疗保险参保单位信息变更登记表"],
    "沅江 单位职工的参加工作时间登记错了 要更正 需要哪些材料": ["湖南省基本医疗保险职工参保信息变更登记表"],
}


@pytest.mark.parametrize("message", sorted(SITUATIONS))
@pytest.mark.server
def test_an_item_described_by_a_situation_is_answered(rest: str, message: str) -> None:
    reply = conversation(rest, [message])[0]
    for text in SITUATIONS[message]:
        assert text in reply, reply
    assert "请问您想办理哪项医保业务" not in reply


@pytest.mark.server
def test_a_question_no_document_answers_is_said_so_without_asking_the_city(rest: str) -> None:
    reply = conversation(rest, ["我的医保卡密码忘了怎么办"])[0]
    assert "没有写医保卡（社保卡）或医保电子凭证密码" in reply
    assert "哪个城市" not in reply


@pytest.mark.server
def test_a_balance_question_gets_changsha_own_item_once_the_city_is_known(rest: str) -> None:
    first, second = conversation(rest, ["医保卡余额怎么查", "长沙的"])
    assert "只有长沙市办事指南列有“医保个人账户信息查询”" in first
    assert "【医保个人账户信息查询｜长沙市】" in second and "参保人身份证" in second


@pytest.mark.server
def test_selling_a_card_is_refused(rest: str) -> None:
    reply = conversation(rest, ["衡阳 我想把医保卡卖了 怎么卖"])[0]
    assert "不能帮您办这件事" in reply
    assert "监督电话" in reply  # the region's supervision phones from the documents, to report it


@pytest.mark.server
def test_the_other_matter_is_declined_and_the_medical_insurance_question_answered(rest: str) -> None:
    reply = conversation(rest, ["长沙高新区 住房公积金怎么提取 另外我离职了要开医保参保凭证 去哪里开"])[0]
    assert "“住房公积金”不属于医保经办事项" in reply
    assert "桐梓坡西路668号" in reply


@pytest.mark.server
def test_a_greeting_around_a_question_is_not_small_talk(rest: str) -> None:
    reply = conversation(rest, ["你好，请问一下耒阳异地安置备案要带什么材料，谢谢，再见"])[0]
    assert "常住人口登记卡" in reply and "祝您办事顺利" not in reply


@pytest.mark.server
def test_an_office_comes_with_its_phone(rest: str) -> None:
    reply = conversation(rest, ["衡山县 开参保凭证到哪里办"])[0]
    assert "衡山县工业园政务中心三楼" in reply and "0734-5810966" in reply


@pytest.mark.server
def test_a_deadline_to_apply_is_not_answered_with_the_processing_time(rest: str) -> None:
    reply = conversation(rest, ["宁乡的 急诊备案有没有时间限制"])[0]
    assert "急诊后三个工作日内" in reply


@pytest.mark.server
def test_a_bare_city_completes_the_first_question_with_all_its_aspects(rest: str) -> None:
    replies = conversation(rest, ["医保关系转移接续 要准备哪些材料 要多久", "衡阳"])
    assert "哪个城市" in replies[0]
    assert "衡阳市基本医疗保险关系转移接续申请表" in replies[1] and "办理时限" in replies[1]


@pytest.mark.server
def test_entries_that_differ_are_answered_side_by_side_not_asked(rest: str) -> None:
    reply = conversation(rest, ["醴陵的 公司有个员工辞职了 单位要给他把医保停掉 要交什么"])[0]
    assert "请问您要办理哪一项" not in reply
    assert "《湖南省职工基本医疗保险参保登记表》（减少登记）" in reply


@pytest.mark.server
def test_a_person_status_opens_its_dialog_over_a_situation_of_another_item(rest: str) -> None:
    replies = conversation(rest, ["我家是低保户 住院自己付的钱还能报吗", "郴州"])
    assert "郴州市医疗救助申请审批表" in replies[-1]


# Without the servers ----------------------------------------------------------------------------------------------

def read(kb: KnowledgeBase, text: str):
    return understand(kb, {"text": text})


def test_situations_outrank_generic_aliases_and_names_outrank_situations(kb: KnowledgeBase) -> None:
    assert read(kb, "孝感 在外地医院做了结扎手术 没能直接用医保结算").items[0].code == "002036007003"
    assert read(kb, "黄石大冶的 换工作要去外地 新单位要医保参保凭证 开这个带什么").items[0].code == "002036003001"
    assert read(kb, "永兴县 在外地做了结扎手术没直接结算 计划生育医疗费回来报").items[0].code == "002036007003"


def test_places_of_origin_destination_and_residence(kb: KnowledgeBase) -> None:
    assert read(kb, "我们是邵阳人 在长沙租房住 小孩能参加居民医保吗").region.id == "湖南省/长沙市"
    assert read(kb, "之前在东莞上班交的医保 现在回邵阳工作了").region.id == "湖南省/邵阳市"
    assert read(kb, "醴陵的 公司员工辞职").region.id == "湖南省/株洲市/醴陵市"
    assert read(kb, "公安局开的死亡证明").region is None
    assert read(kb, "我原来在株洲参保有特门 现在调到长沙工作 医保也在长沙交了").region.id == "湖南省/长沙市"


def test_aspects_come_from_the_words_and_yes_no_questions_bring_conditions() -> None:
    assert aspects_in("衡山县 开参保凭证到哪里办", "") == ["office", "phone"]
    assert aspects_in("能不能网上办", "ask_eligibility") == ["online"]
    assert aspects_in("职工医保个人账户的钱能一次性取出来吗 要等多久", "") == ["time_limit", "conditions"]
    assert aspects_in("生育津贴能领多少", "ask_eligibility") == ["amount"]
    assert aspects_in("长沙 住院报销最晚多久之内要去办", "ask_time_limit") == ["deadline"]
    assert "conditions" in aspects_in("宜都的 能以灵活就业身份交职工医保吗 当天能办好不", "")
    assert aspects_in("长沙 新开了一家门诊部 想申请医保定点 需要交什么材料 审批要多久", "") == ["materials", "time_limit"]
    assert aspects_in("谁来审 多久出结果", "") == ["process", "time_limit"]  # two clauses, two questions


def test_a_yes_no_question_in_any_form_asks_whether_the_item_applies() -> None:
    assert aspects_in("衡阳县 他这份居民医保还要交么", "ask_office") == ["eligibility"]
    assert aspects_in("南岳区 要我先开个医保参保凭证 现在开得了不", "ask_time_limit") == ["eligibility"]
    assert aspects_in("在北京没有办居住证 这样能办异地长期居住备案吗", "ask_office") == ["eligibility"]
    assert aspects_in("网上能办吗", "ask_eligibility") == ["online"]
    assert aspects_in("随州 身份证号登记错了 单位要盖章不", "") == ["form", "materials"]
    assert aspects_in("耒阳 药店还能不能申请定点 材料交到耒阳哪里", "") == ["materials", "office", "conditions", "phone"]


def test_a_place_other_than_the_place_of_insurance_reads_as_elsewhere(kb: KnowledgeBase) -> None:
    changsha = kb.region("湖南省/长沙市")
    for text, read_as in [("长沙 我工作调到成都去了", "长沙我工作调到外地去了"),
                          ("之前在东莞上班 现在回长沙", "之前在东莞上班现在回长沙"),
                          ("长沙县 诊所申请医保定点", "长沙县诊所申请医保定点")]:
        assert places_as_away(text, kb.find_regions(text), changsha) == read_as
    moved = read(kb, "长沙 我工作调到成都去了 社保也转过去了 长沙医保个人账户里剩的钱能取出来吗 要带什么")
    assert moved.items[0].code == "002036002003-1"  # 医保个人帐户“异地转移”转出提现, not the 主项 around it
    assert "002036002003" not in [match.code for match in moved.items]


def test_english_words_are_read_with_their_chinese_meaning(kb: KnowledgeBase) -> None:
    assert plain("withdraw my personal account") == "withdraw my personal account 支取 个人账户"
    request = read(kb, "Changsha: I'm a foreign employee, my contract ends next month and I'll go back home. "
                       "How do I withdraw the money in my medical insurance personal account?")
    assert request.items[0].code == "002036002003-4" and request.region.id == "湖南省/长沙市"
    assert read(kb, "Changsha Tianxin district, where do I go").region.id == "湖南省/长沙市/天心区"


def test_english_meanings_stand_in_the_order_of_the_sentence(kb: KnowledgeBase) -> None:
    """company … enroll is the employee's enrolment, never the two words 单位 参保 read side by side."""
    request = read(kb, "Loudi, Hunan. Our company hired a foreign engineer. What documents do we need to enroll him "
                       "in employee medical insurance?")
    assert request.items[0].code == "002036001002" and request.region.id == "湖南省/娄底市"


def test_dialect_misspellings_and_negations(kb: KnowledgeBase) -> None:
    assert read(kb, "天门 在外省看门诊没刷上医保 回来保销要什么材料").items[0].code.startswith("0020360060")
    assert read(kb, "我没上班 交的是居民医保").person_type == "居民"
    assert not kb.find_situations("我没有上环")


def test_a_situation_part_matches_its_other_wordings(kb: KnowledgeBase) -> None:
    described = kb.find_situations("郴州 老婆在外省娘家生的二胎 住院的钱没走医保 自己先垫了 回来怎么报")
    assert "002036007002" in [match.code for match in described]
    assert not kb.find_situations("老婆没生孩子")


def test_a_long_stay_without_moving_the_household_is_long_residence_not_resettlement(kb: KnowledgeBase) -> None:
    for text in ("十堰 我跟老伴每年冬天去三亚住小半年 想在那边看病能直接刷卡",
                 "我妈要去昆明长住 一住就是一两年 职工医保 退休了 户口没迁"):
        assert kb.find_situations(text)[0].code == "002036004002"
    assert kb.find_situations("我爸退休了 户口迁到深圳了 在那边看病要备案吗")[0].code == "002036004001"


def test_passages_are_the_sentences_of_an_item_a_question_points_to(kb: KnowledgeBase) -> None:
    found = kb.passages("hengyang", ["不足", "年限", "补缴", "缴费"], ["002036001002"])
    assert found[0].text.startswith("不足最低缴费年限的")
    assert "一次性补缴" in found[0].text and found[0].source.document == "hengyang"
    assert not kb.passages("hengyang", ["不足"], ["002036001002"])  # one shared pair is no match


def test_conditions_quote_the_sentence_asked_about_and_the_persons_own_case(kb: KnowledgeBase) -> None:
    composer = Composer(kb, 2048)
    hengyang = kb.guide("002036001002", kb.region("湖南省/衡阳市"))
    conditions = composer.conditions(hengyang.entries[0], "累计交了十八年 够不够办医保退休 不够怎么办")
    assert any("一次性补缴办理医保退休" in text for text in conditions)
    case = composer.persons_case(hengyang.entries[0], "灵活就业", "")
    assert "即时办结" in "".join(case) and "衡阳市灵活就业人员基本医疗保险参保登记表" in "".join(case)


def test_an_office_the_document_does_not_list_is_told_by_the_items_own_note(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036003002", kb.region("湖南省/邵阳市"))
    lines = Composer(kb, 2048).office(guide.entries[0], guide.region)
    assert any("均可受理" in line for line in lines)


def test_no_question_between_leaves_that_give_the_same_answer(kb: KnowledgeBase) -> None:
    tree = kb.trees["remote_care"]
    leaf = tree.leaf({"plan": "long_term", "moved": "no", "posted": "no"})
    assert leaf is not None and leaf.item == "002036004002" and tree.next_question(
        {"plan": "long_term", "moved": "no", "posted": "no"}) is None
    assert tree.leaf({"plan": "long_term"}) is None and tree.next_question({"plan": "long_term"}).slot == "retired"
    assert kb.trees["maternity"].leaf({}) is None


# understand(): the request built from an NLU result and the text ---------------------------------------------------

def parse(kb: KnowledgeBase, text: str, intent: str = "", entities: list[dict] | None = None):
    return understand(kb, {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []})


def test_a_county_typo_an_item_alias_and_the_aspect_asked(kb: KnowledgeBase) -> None:
    request = parse(kb, "来阳的 异地安置备案打哪个电话", "ask_phone")
    assert request.region.id == "湖南省/衡阳市/耒阳市" and request.region.document == "hengyang"
    assert [m.code for m in request.items] == ["002036004001"] and request.items[0].matched == "异地安置备案"
    assert request.aspects == ["phone"] and request.intent == "ask_phone"


def test_the_words_aspect_comes_before_the_intents() -> None:
    assert aspects_in("长沙 住院费用报销要什么材料", "ask_materials") == ["materials"]
    assert aspects_in("长沙 住院费用报销 要多久", "ask_materials") == ["time_limit"]
    assert aspects_in("长沙 住院费用报销", "ask_materials") == ["materials"]  # no aspect word: the intent's
    assert aspects_in("长沙 特门 监督电话", "ask_phone") == ["supervision"]  # 监督电话 is not the 咨询 phone
    assert aspects_in("武汉 生育津贴怎么办", "") == ["overview"]


def test_a_name_shared_by_two_places_is_ambiguous(kb: KnowledgeBase) -> None:
    request = parse(kb, "高新区 异地转诊备案 电话", "ask_phone")
    assert request.region is None
    assert sorted(r.id for r in request.ambiguous_regions) == ["湖南省/衡阳市/高新区", "湖南省/长沙市/高新区"]
    assert request.items[0].code == "002036004004"


def test_a_destination_is_told_apart_from_the_place_of_insurance(kb: KnowledgeBase) -> None:
    request = parse(kb, "我爸退休了户口迁到海口跟我姐一起住 衡阳医保要怎么备案啊", "ask_process")
    assert request.region.id == "湖南省/衡阳市" and request.destination.id == "海南省/海口"
    assert request.person_type == "退休" and request.items[0].code == "002036004001"


def test_a_place_outside_hunan_and_hubei_is_read_but_not_covered(kb: KnowledgeBase) -> None:
    request = parse(kb, "我是广东佛山参保的 在长沙住 异地备案怎么办", "ask_process")
    assert request.region.id == "广东省/佛山" and not request.region.covered


def test_the_region_nlu_found_counts_only_where_the_text_names_none(kb: KnowledgeBase) -> None:
    found = [{"entity": "region", "value": "湖南省/长沙市"}]
    assert parse(kb, "生育津贴要多久", "ask_time_limit", found).region.id == "湖南省/长沙市"
    assert parse(kb, "郴州 生育津贴要多久", "ask_time_limit", found).region.id == "湖南省/郴州市"


def test_an_item_typo_diet_found_is_searched_among_the_names(kb: KnowledgeBase) -> None:
    request = parse(kb, "衡阳 门诊慢特疾 要什么材料", "ask_materials",  # 疾 is not a homophone of 病: no name heard
                    [{"entity": "item", "value": "门诊慢特疾", "start": 3, "end": 8}])
    assert request.items[0].code == "002036005001" and request.item_words == ["门诊慢特疾"]


def test_an_item_name_typed_with_a_homophone_is_read_as_the_name(kb: KnowledgeBase) -> None:
    request = parse(kb, "衡阳 门诊慢特兵 要什么材料", "ask_materials",
                    [{"entity": "item", "value": "门诊慢特兵", "start": 3, "end": 8}])
    assert request.items[0].code == "002036005001" and request.item_words == ["门诊慢特病"]


def test_the_person_is_the_most_specific_words_not_nlu_and_not_a_negated_one(kb: KnowledgeBase) -> None:
    nlu_says_employee = [{"entity": "person_type", "value": "职工", "start": 3, "end": 5}]
    assert parse(kb, "常德 我是灵活就业 怎么参加职工医保", "ask_process", nlu_says_employee).person_type == "灵活就业"
    request = parse(kb, "长沙 我不是职工 是居民 参保登记")
    assert request.person_type == "居民" and request.items[0].code == "002036001003"  # 城乡居民参保登记


def test_a_negated_item_name_is_not_the_item_asked(kb: KnowledgeBase) -> None:
    request = parse(kb, "衡阳 不是生育津贴 是生育医疗费 怎么报")
    assert [m.code for m in request.items] == ["002036007002"]  # 生育医疗费支付, not 生育津贴支付


def test_another_matter_is_set_aside_and_the_full_list_noticed(kb: KnowledgeBase) -> None:
    pension = parse(kb, "长沙退休了养老金每个月能领多少", "out_of_scope")
    assert pension.other_topic == "养老金" and pension.items == [] and pension.aspects == ["amount"]
    full = parse(kb, "衡阳 职工参保登记要什么材料 全部材料", "ask_materials")
    assert full.wants_full_list and full.items[0].code == "002036001002"
    assert not parse(kb, "衡阳 职工参保登记要什么材料", "ask_materials").wants_full_list


def test_nothing_is_made_of_a_greeting_or_an_empty_message(kb: KnowledgeBase) -> None:
    for text in ("你好", ""):
        request = parse(kb, text, "greet")
        assert (request.items, request.region, request.aspects, request.person_type) == ([], None, [], None)


def test_dialect_words_are_put_plainly() -> None:
    assert plain("堂客生小孩 保销") == "老婆生小孩 报销"
    assert plain("卡里还剩好多钱 几多天能办好") == "卡里还剩多少钱 多少天能办好"  # 湖南 好多, 湖北 几多


# Ranking items by their own text ------------------------------------------------------------------------------------

def ranked(kb: KnowledgeBase, text: str, document: str | None, person: str | None = None) -> list[str]:
    return [match.code for match in items_by_text(kb, text, document, person)]


def test_a_described_situation_ranks_the_item_whose_text_tells_it(kb: KnowledgeBase) -> None:
    assert ranked(kb, "衡阳 医保卡里的钱 人去世了 怎么取出来", "hengyang")[0] == "002036002003"  # 个人账户一次性支取
    assert ranked(kb, "长沙 公司换了法人 单位信息要改", "changsha")[0] == "002036001004"  # 单位参保信息变更登记
    assert ranked(kb, "长沙 在外地住院 没有刷医保 回来报销", "changsha")[0] == "002036006002"  # 住院费用报销
    assert ranked(kb, "武汉 生小孩的医药费怎么报", "hubei")[0] == "002036007002"  # 生育医疗费支付


def test_a_clear_first_is_answered_and_close_ones_are_offered(kb: KnowledgeBase) -> None:
    clear = items_by_text(kb, "衡阳 医保卡里的钱 人去世了 怎么取出来", "hengyang", None)
    assert [m.code for m in close_candidates(clear)] == ["002036002003"]
    close = items_by_text(kb, "衡阳 单位新招了员工 怎么给他上医保", "hengyang", None)
    assert {m.code for m in close_candidates(close)} == {"002036001001", "002036001002"}  # 单位 or 职工参保登记
    assert items_by_text(kb, "随便说点什么", None, None) == [] and close_candidates([]) == []


def test_the_person_asking_decides_between_twin_items(kb: KnowledgeBase) -> None:
    text = "衡阳 名字登记错了 想改过来"
    resident = items_by_text(kb, text, "hengyang", "居民")
    employee = items_by_text(kb, text, "hengyang", "职工")
    assert resident[0].code == "002036001006"  # 城乡居民参保信息变更登记
    assert [m.code for m in close_candidates(resident)] == ["002036001006"]
    assert {m.code for m in close_candidates(employee)} == {"002036001005", "002036001006"}  # 职工 now close
    assert person_fit("职工参保信息变更登记", "职工") > person_fit("生育津贴支付", "职工") > \
        person_fit("城乡居民参保信息变更登记", "职工")
