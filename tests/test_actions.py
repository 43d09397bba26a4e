"""The custom actions, run as the action server runs them, on trackers built like Rasa's, with the real
knowledge base. The NLU part of each message (intent, entities) is given, as Rasa would pass it."""
from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import utf8_len
from actions.answer_dialogue import ActionAnswer, pick_option
from actions.fallback_handoff import ActionFallback, ActionHandoff, ActionOutOfScope


def tracker(text: str, intent: str, slots: dict[str, Any] | None = None,
            entities: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker(sender_id="test", slots=slots or {}, events=[], paused=False, followup_action=None,
                   active_loop={}, latest_action_name=None,
                   latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9},
                                   "entities": entities or []})


def run(action: Any, text: str, intent: str, slots: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """The reply text, the slots after the turn, and the messages."""
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(text, intent, slots, entities), {})
    new_slots = dict(slots or {})
    new_slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), new_slots, dispatcher.messages


def test_leiyang_typo_phone_question_gives_both_desks() -> None:
    reply, slots, _ = run(ActionAnswer(), "来阳的 异地安置备案打哪个电话", "ask_phone")
    assert "0734-4269955" in reply and "0734-4322176" in reply
    assert "0734-8867038" not in reply and "0734-4758051" not in reply
    assert "衡阳市医疗保障经办政务服务事项办事指南" in reply
    assert slots["region"] == "湖南省/衡阳市/耒阳市" and slots["item"] == "002036004001"


def test_follow_up_with_person_type_keeps_item_and_region() -> None:
    _, slots, _ = run(ActionAnswer(), "来阳的 异地安置备案打哪个电话", "ask_phone")
    reply, _, _ = run(ActionAnswer(), "职工医保", "inform", slots,
                      [{"entity": "item", "value": "职工医保", "start": 0, "end": 4}])
    assert "0734-4269955" in reply and "0734-4322176" not in reply


def test_follow_up_aspect_uses_remembered_item_and_region() -> None:
    _, slots, _ = run(ActionAnswer(), "长沙 住院费用报销要什么材料", "ask_materials")
    reply, _, _ = run(ActionAnswer(), "那要多久？", "ask_time_limit", slots)
    assert "不超过30个工作日" in reply.replace(" ", "")


def test_region_switch_answers_the_same_question_for_the_new_city() -> None:
    _, slots, _ = run(ActionAnswer(), "郴州 生育津贴要多久", "ask_time_limit")
    reply, _, _ = run(ActionAnswer(), "那株洲呢", "inform", slots)
    assert "不超过10个工作日" in reply and "湖南省医疗保障经办政务服务事项清单（2025年版）" in reply


def test_no_region_asks_for_it_and_the_answer_resolves_a_county() -> None:
    reply, slots, messages = run(ActionAnswer(), "生育津贴要什么材料", "ask_materials")
    assert "哪个城市" in reply and messages[0]["buttons"]
    reply, _, _ = run(ActionAnswer(), "浏阳", "inform", slots)
    assert "长沙市医疗保障经办政务服务事项办事指南" in reply and "生育津贴" in reply


def test_an_item_whose_kinds_answer_alike_needs_no_question_and_one_that_differs_opens_its_dialog() -> None:
    reply, slots, _ = run(ActionAnswer(), "衡阳 备案 监督电话多少", "ask_supervision")
    assert "0734-2668302" in reply  # every 备案 item of the 衡阳 guide has the same answer: no question needed
    reply, slots, messages = run(ActionAnswer(), "衡阳 备案要什么材料", "ask_materials")
    assert reply == "" and slots["eligibility_tree"] == "remote_care"  # which 备案 is for its eligibility dialog to find out


def test_cue_words_choose_the_beian_kind_and_negations_do_not() -> None:
    reply, _, _ = run(ActionAnswer(), "岳阳的 想临时去外地大医院看病 没有转诊单 也不是急诊 要备案吗 带什么",
                      "ask_materials")
    assert "其他临时外出就医人员备案" in reply and "湖南省异地就医备案登记表" in reply


def test_emergency_beian_deadline_of_three_working_days() -> None:
    reply, _, _ = run(ActionAnswer(), "出差武汉急性阑尾炎住院了 我衡阳职工医保 现在补备案还来得及不",
                      "ask_time_limit")
    assert "三个工作日" in reply and "异地就医登记备案表" not in reply


def test_destination_is_not_the_place_of_insurance() -> None:
    reply, _, _ = run(ActionAnswer(), "我爸退休了户口迁到海口跟我姐一起住 衡阳医保要怎么备案啊", "ask_process")
    assert "常住人口登记卡" in reply and "衡阳市异地就医备案登记表" in reply


def test_other_province_is_not_covered() -> None:
    reply, _, _ = run(ActionAnswer(), "我是广东佛山参保的 在长沙住 异地备案怎么办", "ask_process")
    assert "参保地" in reply and "88665154" not in reply and "登记表" not in reply


def test_amounts_are_never_invented() -> None:
    reply, _, _ = run(ActionAnswer(), "长沙 生育津贴能拿多少钱 咋算的", "ask_amount")
    assert "生育津贴" in reply and "没有写" in reply
    assert not any(unit in reply for unit in ("元", "块"))


def test_chenzhou_phone_question_says_the_annex_is_missing() -> None:
    reply, _, _ = run(ActionAnswer(), "桂东县 生育津贴 咨询电话多少 要几天", "ask_phone")
    assert "附件2" in reply and "18个工作日" in reply
    assert "0735" not in reply and "0734" not in reply


def test_two_questions_in_one_message_are_both_answered() -> None:
    reply, _, _ = run(ActionAnswer(), "南岳区 在外地急诊住院了 急诊备案要什么材料 电话多少", "ask_materials")
    assert "急诊病历" in reply and "入院证明" in reply and "0734-5678916" in reply
    assert "0734-5678399" not in reply


def test_hubei_guide_answers_wuhan() -> None:
    reply, _, _ = run(ActionAnswer(), "武汉新注册的公司 办单位参保登记要几天", "ask_time_limit")
    assert "即时办结" in reply and "湖北省医疗保障经办政务服务事项办事指南" in reply and "湘医保" not in reply


def test_2025_list_folds_the_one_off_grant_into_the_allowance() -> None:
    reply, _, _ = run(ActionAnswer(), "永州 一次性生育补助金 申领要什么材料", "ask_materials")
    assert "湖南省一次性生育补助金申领表" in reply and "医院收费票据" in reply


def test_conflict_with_the_2025_list_is_one_sentence() -> None:
    reply, _, _ = run(ActionAnswer(), "衡阳 门诊费用报销要多久", "ask_time_limit")
    assert "不超过30个工作日" in reply and "25个工作日" in reply and "2025年版" in reply


def test_full_material_list_on_request() -> None:
    _, slots, _ = run(ActionAnswer(), "衡阳 职工参保登记要什么材料", "ask_materials")
    reply, _, _ = run(ActionAnswer(), "全部材料", "ask_materials", slots)
    assert "外国人" in reply


@pytest.mark.parametrize(("text", "item"), [
    ("衡阳 职工参保登记要什么材料", None), ("长沙 特门要什么材料", None), ("长沙 住院费用报销 流程", None),
    ("长沙 个人账户 全部材料", "002036002003-2"),
])
def test_every_reply_fits_one_wechat_message(text: str, item: str | None) -> None:
    slots = {"item": item} if item else None
    _, _, messages = run(ActionAnswer(), text, "ask_materials", slots)
    assert messages and all(utf8_len(m["text"]) <= 2048 for m in messages)


def test_handoff_gives_the_regions_query_and_supervision_phones() -> None:
    reply, _, _ = run(ActionHandoff(), "转人工", "request_human", {"region": "湖南省/衡阳市/祁东县"})
    assert "0734-6373655" in reply and "0734-6286968" in reply


def test_handoff_for_chenzhou_says_what_is_missing() -> None:
    reply, _, _ = run(ActionHandoff(), "我要人工 郴州的", "request_human")
    assert "附件2" in reply and "0735" not in reply


def test_out_of_scope_declines_without_facts() -> None:
    reply, _, _ = run(ActionOutOfScope(), "长沙退休了养老金每个月能领多少", "out_of_scope")
    assert "医保" in reply and "工作日" not in reply and "有效身份证件" not in reply


def test_out_of_scope_misclassification_of_a_service_question_is_answered() -> None:
    reply, _, _ = run(ActionOutOfScope(), "永州 新生儿怎么办城乡居民医保参保", "out_of_scope")
    assert "湖南省城乡居民基本医疗保险参保登记表" in reply or "出生一件事一次办" in reply


def test_a_situation_mistaken_for_out_of_scope_opens_its_dialog_at_once() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionOutOfScope().run(dispatcher, tracker("郴州 老人过世了 医保怎么处理", "out_of_scope"), {})
    assert {"event": "slot", "timestamp": None, "name": "eligibility_tree", "value": "after_death"} in events
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "eligibility_form"}
    assert not dispatcher.messages  # the form asks its first question


def test_two_failed_turns_lead_to_the_phones() -> None:
    reply, slots, _ = run(ActionFallback(), "嗯嗯啊啊", "nlu_fallback", {"region": "湖南省/长沙市/望城区"})
    assert "没太明白" in reply
    reply, _, _ = run(ActionFallback(), "哦哦", "nlu_fallback", slots)
    assert "88367427" in reply


@pytest.mark.parametrize(("text", "expected"), [("2", 1), ("2.", 1), ("２", 1), ("生育津贴", 0), ("9", None),
                                                ("随便", None)])
def test_pick_option(text: str, expected: int | None) -> None:
    assert pick_option(text, ["生育津贴支付", "一次性生育补助金支付"]) == expected


def test_ambiguous_gaoxinqu_is_settled_by_naming_the_city() -> None:
    reply, slots, messages = run(ActionAnswer(), "高新区 异地转诊备案 电话", "ask_phone")
    assert "衡阳市高新区" in reply and "长沙市高新区" in reply
    reply, _, _ = run(ActionAnswer(), "衡阳的", "inform", slots)
    assert "0734-8839523" in reply and "0734-8867038" not in reply


def test_residents_enrolment_is_not_mistaken_for_the_change_of_their_data() -> None:
    reply, _, _ = run(ActionAnswer(), "祁东县的居民 怎么参保 电话多少", "ask_phone")
    assert "城乡居民参保登记" in reply and "0734-6283999" in reply


def test_proxy_gets_the_provincial_rule_for_proxies() -> None:
    reply, _, _ = run(ActionAnswer(), "帮我妈代办衡阳的异地长期居住备案 要带什么", "ask_materials")
    assert "居住证" in reply and "授权委托书" in reply and "2025年版" in reply


def test_supervision_phone_without_an_item_gives_the_offices_numbers() -> None:
    reply, _, _ = run(ActionAnswer(), "蒸湘区 办事太慢 投诉电话", "ask_supervision")
    assert "0734-8827962" in reply


def test_a_code_with_local_sub_items_answers_for_its_base_item() -> None:
    reply, _, _ = run(ActionAnswer(), "宁乡 特门 在哪办", "ask_office")
    assert "本地特殊门诊待遇申报" in reply and "请问您要办理哪一项" not in reply


def test_a_typo_that_diet_found_is_searched_among_the_names() -> None:
    text = "衡杨 门诊慢特兵 要什么材料"
    reply, _, _ = run(ActionAnswer(), text, "ask_materials",
                      entities=[{"entity": "item", "value": "门诊慢特兵", "start": 3, "end": 8}])
    assert "衡阳市基本医疗保险门诊慢特病病种待遇认定申请表" in reply


def test_flexible_workers_joining_employee_insurance() -> None:
    reply, _, _ = run(ActionAnswer(), "常德 我是灵活就业 怎么参加职工医保", "ask_process",
                      entities=[{"entity": "person_type", "value": "职工", "start": 12, "end": 16}])
    assert "灵活就业人员增加登记" in reply and "湖南省职工基本医疗保险参保登记表" in reply
