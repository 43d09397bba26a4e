"""The eligibility dialogs (trees A–G and J of knowledge/data/eligibility.yml) end to end through the REST channel:
the real Rasa server with its forms, the real action server and knowledge base. Every leaf is reached by a
conversation in at least one region; the last reply must name the item, give the verdict and hold that region's
own materials or rules from the documents.

The forms' validation and result actions (actions/eligibility.py) are also run directly, without the servers, at the
end: rasa_sdk's CollectingDispatcher and a Tracker built as Rasa passes it to the action server."""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Servers, reply_text, say
from conftest import conversation as talk
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (FORM_NAME, STOPPED, UNCLEAR, ActionAskEligibilityLeaf,
                                 ActionEligibilityResult, ValidateEligibilityForm)
from knowledge.bot_texts import texts
from knowledge.query import KnowledgeBase

_senders = itertools.count()

# leaf: (the user's messages, what the last reply must contain)
LEAVES: dict[str, tuple[list[str], list[str]]] = {
    "remote_care_settled": (["衡阳 异地就医备案怎么办", "1", "已经退休了", "户口迁过去了"],
                  ["异地安置退休人员备案", "常住人口登记卡", "《衡阳市异地就医备案登记表》", "没有写可以用个人承诺书代替",
                   "衡阳市办事指南第3527–3531行"]),
    "remote_care_retired_resident": (["郴州 异地就医备案要带什么", "以后长期在外地", "退休了", "户口没迁"],
                           ["异地长期居住人员备案", "居住证明或个人承诺书"]),
    "remote_care_posted": (["长沙的 异地就医备案", "长期在外地工作", "还没退休", "是单位派我去的"],
                 ["常驻异地工作人员备案", "异地居住证、身份证、户口本三证之一"]),
    "remote_care_resident": (["株洲 异地就医备案", "1", "2", "不是，自己在外地打工"],
                   ["异地长期居住人员备案", "居住证或个人承诺书", "《湖南省异地就医备案登记表》"]),
    "remote_care_referral": (["耒阳 备案要什么材料", "这一次", "有转诊单"],
                   ["异地转诊人员备案", "具有转诊资格的协议医疗机构开具的转诊转院证明材料", "衡阳市耒阳市"]),
    "remote_care_emergency": (["长沙 异地就医备案", "只是这一次", "没有转诊", "是急诊"],
                    ["异地急诊人员备案", "急诊后三个工作日内", "身份证或居住证"]),
    "remote_care_temporary": (["岳阳 异地就医备案", "2", "没有", "2"],
                    ["其他临时外出就医人员备案", "《湖南省异地就医备案登记表》"]),
    "remote_care_already": (["衡阳 异地就医备案", "3"], ["手工（零星）报销", "住院费用报销", "医院收费票据"]),
    "enrolment_unit": (["长沙 参保登记怎么办", "1"], ["单位参保登记", "统一社会信用代码证书或单位批准成立的文件"]),
    "enrolment_employee": (["衡阳 医保参保登记怎么办", "2"], ["由单位为您办理职工参保", "参保人员有效身份证件复印件（在职职工）"]),
    "enrolment_flexible": (["衡阳 参保登记", "灵活就业"], ["灵活就业人员", "6个月待遇等待期", "《衡阳市灵活就业人员基本医疗保险参保登记表》"]),
    "enrolment_student": (["长沙 参保登记要什么", "4", "学生"], ["大学生参保由所在学校统一上报", "城乡居民参保登记"]),
    "enrolment_newborn": (["株洲 参保登记", "城乡居民", "刚出生的宝宝"], ["新生儿出生一件事一次办", "户口簿也算有效身份证件"]),
    "enrolment_resident": (["武汉 参保登记怎么办", "4", "3"], ["未参加职工基本医疗保险的城乡居民", "《城乡居民基本医疗保险参保登记表》"]),
    "maternity_resident": (["长沙 生孩子能领什么", "2"], ["不能领生育津贴", "城镇女职工"]),
    "maternity_unemployed": (["衡阳 生育保险待遇怎么领", "职工医保", "失业的女职工"], ["一次性生育补助金", "失业证复印件"]),
    "maternity_male": (["郴州 老婆生孩子 我能领什么", "1", "3"], ["一次性生育补助金", "承诺配偶未参加生育保险"]),
    "maternity_allowance": (["长沙 生育保险待遇", "职工医保", "我自己生", "生育津贴"], ["生育津贴", "资料没有写计算标准", "新生儿出生医学证明"]),
    "maternity_settled": (["武汉 生育待遇怎么办", "1", "1", "1", "已经直接结算了"], ["不需要再申请报销", "生育津贴"]),
    "maternity_claim": (["衡阳 生育待遇", "职工", "1", "看病花的钱", "没有结算"], ["生育医疗费支付", "孕20周后", "医疗费用发票"]),
    "account_withdrawal_resident": (["衡阳 我交的居民医保 账户里的钱能取出来吗"], ["职工基本医疗保险个人账户一次性支取申请表", "城乡居民医保"]),
    "account_withdrawal_death": (["长沙 个人账户一次性支取", "职工医保", "参保人去世了"],
                ["“死亡销户”医保个人账户提现", "直系亲属身份证复印件", "承诺书"]),
    "account_withdrawal_abroad": (["长沙 个人账户一次性支取", "职工医保", "出国定居"], ["没有列出", "护照或永久居留证"]),
    "account_withdrawal_foreign": (["长沙 个人账户一次性支取", "1", "外籍员工合同到期回国"], ["外籍人员回国销户提现", "外籍人员合同到期证明"]),
    "account_withdrawal_transfer": (["长沙 医保个人账户支取", "职工", "工作调到外地了"],
                   ["社保关系接收地参保证明或社保关系转移证明", "个人账户余额划转"]),
    "account_withdrawal_give_up": (["株洲 我不想交职工医保了 个人账户的钱能取吗"], ["主动放弃基本医疗保险的情况说明"]),
    "manual_reimbursement_local": (["长沙 医疗费用报销", "在本地看的病"], ["异地非联网结算", "请咨询参保地医保经办机构"]),
    "manual_reimbursement_settled": (["衡阳 医疗费用报销怎么办", "外地", "刷了医保"], ["不需要再申请手工报销"]),
    "manual_reimbursement_outpatient_special": (["郴州 医疗费用报销", "在外地", "没有刷", "门诊", "特门"],
                             ["门诊费用报销", "限特门、双通道、急诊抢救", "医药机构收费票据"]),
    "manual_reimbursement_outpatient_ordinary": (["衡阳 费用报销", "1", "2", "1", "2"], ["普通门诊不在范围内", "门诊费用报销"]),
    "manual_reimbursement_inpatient": (["长沙 医疗费用报销", "外地", "自费", "住院"], ["住院费用报销", "住院费用汇总清单", "银行账户信息"]),
    "chronic_care_chronic_local": (["长沙 门诊慢特病和特药怎么申请", "住在本地"],
                        ["本地特殊门诊待遇申报", "湘雅二医院、湖南省脑科医院、长沙市精神病医院"]),
    "chronic_care_chronic_away": (["长沙 慢特病和特药认定", "慢特病", "异地安置在外地"], ["异地特殊门诊待遇申报"]),
    "chronic_care_drug": (["郴州 慢特病和特药认定", "2"], ["“双通道”管理药品", "双通道”管理药品服务定点零售药店"]),
    "medical_assistance_subsidy": (["长沙 医疗救助怎么申请", "低保", "医保个人缴费"], ["个人不需缴费", "低保人员凭低保证"]),
    "medical_assistance_reimburse": (["衡阳 医疗救助", "1", "2"], ["医疗救助对象手工（零星）报销", "户籍所在地乡镇人民政府"]),
    "medical_assistance_unrecognised": (["株洲 医疗救助", "没有认定 但家里很困难"], ["《个人家庭经济状况核查委托授权书》"]),
    "after_death_employee": (["我爸去世了 医保要办什么手续", "长沙", "在职职工"], ["职工减少登记", "20个工作日内"]),
    "after_death_retiree": (["衡阳 我妈去世了 医保怎么办", "退休人员"], ["退休人员医保管理", "《死亡医学证明》"]),
    "after_death_flexible": (["株洲 家人去世了 医保要停吗", "灵活就业"], ["灵活就业人员减少登记", "20个工作日内"]),
    "after_death_resident": (["郴州 老人过世了 医保怎么处理", "4"], ["城乡居民减少登记", "20个工作日内"]),
}


@pytest.fixture(scope="module")
def rest(servers: Servers) -> str:
    return servers.rest_url


def conversation(rest: str, messages: list[str]) -> list[str]:
    return talk(rest, f"eligibility-{next(_senders)}", messages)


def test_every_leaf_of_every_tree_has_a_conversation(kb: KnowledgeBase) -> None:
    leaves = {leaf.id for tree in kb.trees.values() for leaf in tree.leaves}
    assert set(kb.trees) == {"remote_care", "enrolment", "maternity", "account_withdrawal", "manual_reimbursement",
                             "chronic_care", "medical_assistance", "after_death"}
    assert leaves == set(LEAVES)


@pytest.mark.parametrize("leaf", sorted(LEAVES))
@pytest.mark.server
def test_a_conversation_reaches_the_leaf_with_its_verdict_and_materials(rest: str, leaf: str) -> None:
    messages, expected = LEAVES[leaf]
    replies = conversation(rest, messages)
    last = replies[-1]
    assert "判断：" in last, replies
    for text in expected:
        assert text in last, (text, replies)
    for question_reply in replies[:-1]:
        assert "判断：" not in question_reply, replies


@pytest.mark.server
def test_the_dialog_asks_with_numbered_options_and_buttons(rest: str) -> None:
    sender = f"eligibility-{next(_senders)}"
    replies = say(rest, sender, "衡阳 异地就醫備案怎么办")
    assert "1. 以后长期在外地" in reply_text(replies) and "回复序号" in reply_text(replies)
    assert [b["title"] for b in replies[-1]["buttons"]][:2] == ["以后长期在外地（定居、居住或工作）", "只是这一次去外地看病"]


@pytest.mark.server
def test_a_fact_question_in_the_middle_is_answered_and_the_dialog_resumes(rest: str) -> None:
    replies = conversation(rest, ["衡阳 异地就医备案怎么办", "对了 门诊慢特病要带什么材料", "1", "退休了", "户口也迁过去了"])
    assert "《衡阳市基本医疗保险门诊慢特病病种待遇认定申请表》" in replies[1] or "门诊慢特病" in replies[1]
    assert "我们接着刚才的问题" in replies[1] and "以后长期在外地" in replies[1]
    assert len(replies[1].encode("utf-8")) <= 2048  # the answer, and the question after it, in one WeChat text
    assert "异地安置退休人员备案" in replies[-1] and "常住人口登记卡" in replies[-1]


@pytest.mark.server
def test_an_aspect_question_without_an_item_waits_for_the_answers(rest: str) -> None:
    replies = conversation(rest, ["长沙 异地就医备案", "要多久"])
    assert "回答完下面的问题" in replies[1] and "以后长期在外地" in replies[1]


@pytest.mark.server
def test_an_earlier_answer_can_be_corrected(rest: str) -> None:
    replies = conversation(rest, ["衡阳 异地就医备案怎么办", "1", "退休了", "不对，他还没退休", "是单位派他去的"])
    assert "户口已经迁" in replies[2] or "户口" in replies[2]
    assert "单位派" in replies[3]
    assert "常驻异地工作人员备案" in replies[-1] and "派出证明" in replies[-1]


@pytest.mark.server
def test_dont_know_explains_the_difference_and_asks_again(rest: str) -> None:
    replies = conversation(rest, ["衡阳 异地就医备案怎么办", "不知道"])
    assert "转诊、急诊或临时有事" in replies[1] and "1. 以后长期在外地" in replies[1]


@pytest.mark.server
def test_stopping_ends_the_dialog_and_the_next_question_is_answered(rest: str) -> None:
    replies = conversation(rest, ["衡阳 生育待遇", "算了", "衡阳 住院费用报销要多久"])
    assert "先到这里" in replies[1] and "判断：" not in replies[1]
    assert "不超过30个工作日" in replies[2]


@pytest.mark.server
def test_restarting_asks_the_first_question_again(rest: str) -> None:
    replies = conversation(rest, ["衡阳 异地就医备案怎么办", "1", "重新开始", "2", "有转诊单"])
    assert "从头开始" in replies[2] and "以后长期在外地" in replies[2]
    assert "异地转诊人员备案" in replies[-1]


@pytest.mark.server
def test_an_unexpected_answer_twice_ends_with_the_phones(rest: str) -> None:
    replies = conversation(rest, ["祁东 异地就医备案怎么办", "今天天气不错", "哈哈哈"])
    assert "没听懂" in replies[1] and "以后长期在外地" in replies[1]
    assert "没能理解" in replies[2] and "0734-6373655" in replies[2]


@pytest.mark.server
def test_a_first_message_that_says_everything_gets_the_verdict_at_once(rest: str) -> None:
    replies = conversation(rest, ["我爸去世了 医保卡里的钱怎么取", "长沙"])
    assert "哪个城市" in replies[0]
    assert "判断：" in replies[1] and "直系亲属身份证复印件" in replies[1] and "承诺书" in replies[1]


@pytest.mark.server
def test_a_follow_up_after_the_verdict_is_about_the_item_found(rest: str) -> None:
    replies = conversation(rest, ["耒阳 异地就医备案", "1", "已经退休", "户口迁过去了", "电话呢"])
    assert "0734-4269955" in replies[-1]


# Without the servers: the form actions called directly -------------------------------------------------------------

LEIYANG = "湖南省/衡阳市/耒阳市"


def run_action(action: Any, text: str = "", intent: str = "", **slots: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run an action on a tracker in the middle of a form (requested_slot eligibility_leaf, tree A, 耒阳 unless the
    slots say otherwise): the messages it sent and the slots it set."""
    slots = {"eligibility_tree": "remote_care", "eligibility_facts": {}, "requested_slot": "eligibility_leaf",
             "region": LEIYANG, **slots}
    tracker = Tracker(sender_id="form-test", slots=slots, events=[], paused=False, followup_action=None,
                      active_loop={"name": "eligibility_form"}, latest_action_name="action_listen",
                      latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []})
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def answer(text: str, facts: dict[str, str] | None = None, **slots: Any) -> tuple[list[str], dict[str, Any]]:
    messages, set_slots = run_action(ValidateEligibilityForm(), text, eligibility_facts=facts or {}, **slots)
    return [m.get("text") or "" for m in messages], set_slots


def test_the_one_form_of_the_domain_walks_every_tree(kb: KnowledgeBase) -> None:
    domain = yaml.safe_load((Path(__file__).resolve().parents[1] / "domain.yml").read_text(encoding="utf-8"))
    assert domain["forms"] == {FORM_NAME: {"required_slots": ["eligibility_leaf"]}}
    assert ValidateEligibilityForm().name() == f"validate_{FORM_NAME}" in domain["actions"]
    for tree_id, tree in kb.trees.items():
        messages, _ = run_action(ActionAskEligibilityLeaf(), eligibility_tree=tree_id)
        assert messages[0]["text"].startswith(tree.questions[0].ask), tree_id


def test_activation_with_the_facts_of_the_opening_question_fills_the_leaf() -> None:
    _, slots = answer("", {"plan": "long_term", "retired": "yes", "moved": "yes"}, requested_slot=None)
    assert slots["eligibility_leaf"] == "remote_care_settled"


def test_activation_without_facts_leaves_the_leaf_to_ask() -> None:
    messages, slots = answer("", requested_slot=None)
    assert not messages and slots == {"eligibility_facts": {}}


def test_an_option_number_answers_the_question_asked() -> None:
    messages, slots = answer("2")
    assert not messages
    assert slots["eligibility_facts"] == {"plan": "once"} and slots["failed_turns"] == 0
    assert "eligibility_leaf" not in slots


def test_the_answers_of_a_path_reach_the_settled_retiree_leaf() -> None:
    facts: dict[str, str] = {}
    for text in ["以后长期在外地", "已经退休了", "户口迁过去了"]:
        _, slots = answer(text, facts)
        facts = slots["eligibility_facts"]
    assert facts == {"plan": "long_term", "retired": "yes", "moved": "yes"}
    assert slots["eligibility_leaf"] == "remote_care_settled"


def test_an_answer_that_implies_earlier_facts_skips_their_questions() -> None:
    _, slots = answer("我是单位派到外地工作的")
    assert slots["eligibility_facts"] == {"plan": "long_term", "retired": "no", "posted": "yes"}
    assert slots["eligibility_leaf"] == "remote_care_posted"


def test_a_correction_replaces_the_earlier_answer() -> None:
    _, slots = answer("不对，他还没退休", {"plan": "long_term", "retired": "yes"})
    assert slots["eligibility_facts"] == {"plan": "long_term", "retired": "no"}
    assert "eligibility_leaf" not in slots  # now 单位派 or not is asked


def test_stop_words_end_the_dialog_but_settled_is_an_answer() -> None:
    assert answer("算了")[1]["eligibility_leaf"] == STOPPED
    messages, slots = run_action(ValidateEligibilityForm(), "已经直接结算了", eligibility_tree="maternity",
                                 eligibility_facts={"scheme": "employee", "applicant": "woman", "want": "medical"})
    assert slots["eligibility_leaf"] == "maternity_settled" and slots["eligibility_facts"]["settled"] == "yes"


def test_restart_forgets_the_facts() -> None:
    messages, slots = answer("重新开始", {"plan": "once", "referral": "no"})
    assert messages == ["好的，我们从头开始。"]
    assert slots["eligibility_facts"] == {} and slots["failed_turns"] == 0


def test_dont_know_gets_the_questions_explanation(kb: KnowledgeBase) -> None:
    messages, slots = answer("不知道")
    assert messages == [kb.trees["remote_care"].question("plan").explain]
    assert "转诊、急诊或临时有事" in messages[0] and "eligibility_leaf" not in slots


def test_an_answer_not_understood_twice_ends_the_dialog_as_unclear() -> None:
    messages, slots = answer("今天天气不错")
    assert messages == [texts()["eligibility.not_understood"]] and slots["failed_turns"] == 1
    messages, slots = answer("哈哈哈", failed_turns=1)
    assert not messages and slots["eligibility_leaf"] == UNCLEAR and slots["failed_turns"] == 0


def test_naming_another_city_changes_the_region_and_keeps_the_question() -> None:
    messages, slots = answer("长沙的", {"plan": "long_term"})
    assert messages == ["好的，按长沙市的规定回答。"]
    assert slots["region"] == "湖南省/长沙市" and slots["eligibility_facts"] == {"plan": "long_term"}


def test_a_fact_question_in_between_is_answered_for_the_region_and_the_dialog_goes_on() -> None:
    messages, slots = answer("对了 门诊慢特病要带什么材料", intent="ask_materials")
    assert "《衡阳市基本医疗保险门诊慢特病病种待遇认定申请表》" in messages[0] and "衡阳市耒阳市" in messages[0]
    assert messages[-1] == "我们接着刚才的问题："
    assert slots == {"eligibility_facts": {}}


def test_the_form_tells_an_aspect_question_without_an_item_to_wait() -> None:
    messages, slots = answer("要多久", intent="ask_time_limit")
    assert messages == [texts()["eligibility.waiting"]] and "eligibility_leaf" not in slots


def test_the_next_question_is_asked_with_numbered_options_and_buttons() -> None:
    messages, _ = run_action(ActionAskEligibilityLeaf(), eligibility_facts={"plan": "once"})
    assert messages[0]["text"].startswith("这次去外地看病，参保地的医院给您开了转诊（转院）单吗？")
    assert "1. 有转诊单" in messages[0]["text"]
    assert [button["title"] for button in messages[0]["buttons"]] == ["有转诊单", "没有转诊单"]


def test_the_result_gives_the_verdict_with_the_regions_materials_and_sets_the_item() -> None:
    messages, slots = run_action(ActionEligibilityResult(), eligibility_leaf="remote_care_settled")
    text = messages[0]["text"]
    assert "异地安置退休人员备案" in text and "常住人口登记卡" in text and "耒阳市西湖南路566号" in text
    assert "衡阳市办事指南第3527–3531行" in text
    assert slots["item"] == "002036004001" and slots["eligibility_tree"] is None and slots["eligibility_leaf"] is None


def test_the_result_of_a_stopped_or_unclear_dialog() -> None:
    messages, slots = run_action(ActionEligibilityResult(), eligibility_leaf=STOPPED)
    assert messages[0]["text"].startswith("好的，先到这里") and "item" not in slots
    messages, _ = run_action(ActionEligibilityResult(), eligibility_leaf=UNCLEAR, region="湖南省/衡阳市/祁东县")
    assert "没能理解" in messages[0]["text"] and "0734-6373655" in messages[0]["text"]
