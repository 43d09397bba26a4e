"""The eligibility trees (knowledge/trees.py over knowledge/data/eligibility.yml) walked without the servers: the
answers a citizen types, read by actions.understanding.read_facts, lead through the tree's questions to the leaf and
item the documents prescribe."""
from __future__ import annotations

import pytest
from test_eligibility import LEAVES

from actions.understanding import read_facts
from knowledge.query import KnowledgeBase
from knowledge.trees import Tree


def walk(tree: Tree, messages: list[str]) -> dict[str, str]:
    """The facts after the opening message and the answers to the questions the tree asks in turn."""
    facts = read_facts(tree, messages[0], None)
    for text in messages[1:]:
        facts = {**facts, **read_facts(tree, text, tree.next_question(facts))}
    return facts


@pytest.mark.parametrize("leaf_id", sorted(LEAVES))
def test_the_answers_of_each_leafs_conversation_reach_that_leaf(kb: KnowledgeBase, leaf_id: str) -> None:
    """The same messages as the end-to-end conversations of tests/test_eligibility.py, without NLU or Rasa."""
    tree = next(tree for tree in kb.trees.values() if leaf_id.startswith(tree.id + "_"))
    leaf = tree.leaf(walk(tree, LEAVES[leaf_id][0]))
    assert leaf is not None and leaf_id in leaf.id.split("+")


@pytest.mark.parametrize(("tree_id", "messages", "item", "name"), [
    ("remote_care", ["外地就医备案", "出差", "没开转诊", "突然晕倒了"], "002036004005", "异地急诊人员备案"),
    ("remote_care", ["外地就医备案", "以后都在那边", "还在上班", "公司派我去常驻"], "002036004003", "常驻异地工作人员备案"),
    ("account_withdrawal", ["个人账户的钱", "职工", "要移民出国定居了"], "002036002003", "参保人员个人账户一次性支取"),
    ("manual_reimbursement", ["医疗费用报销", "在外地", "没刷卡", "住院"], "002036006002", "住院费用报销"),
    ("after_death", ["家里老人去世了", "他是退休人员"], "002036001008", "退休人员医保管理"),
    ("enrolment", ["想参保", "我是灵活就业人员"], "002036001002", "职工参保登记"),
])
def test_a_path_of_answers_leads_to_the_right_item(kb: KnowledgeBase, tree_id: str, messages: list[str], item: str,
                                                   name: str) -> None:
    tree = kb.trees[tree_id]
    leaf = tree.leaf(walk(tree, messages))
    assert leaf is not None and leaf.item == item and kb.item_name(item) == name


def test_questions_follow_the_path_the_answers_take(kb: KnowledgeBase) -> None:
    tree = kb.trees["remote_care"]
    asked = [tree.next_question(facts).slot for facts in (
        {}, {"plan": "once"}, {"plan": "once", "referral": "no"}, {"plan": "long_term"},
        {"plan": "long_term", "retired": "no"}, {"plan": "long_term", "retired": "yes"})]
    assert asked == ["plan", "referral", "emergency", "retired", "posted", "moved"]
    assert tree.next_question({"plan": "already"}) is None  # a leaf is reached: nothing more to ask


def test_an_answer_fills_the_facts_it_implies(kb: KnowledgeBase) -> None:
    tree = kb.trees["remote_care"]
    facts = read_facts(tree, "户口已经迁过去了", None)
    assert facts == {"plan": "long_term", "moved": "yes"}
    assert tree.next_question(facts).slot == "retired"  # still asked: 户口迁 does not say 退休


def test_negated_words_choose_the_other_option(kb: KnowledgeBase) -> None:
    tree = kb.trees["remote_care"]
    assert read_facts(tree, "没退休", None) == {"retired": "no"}
    assert read_facts(tree, "不是急诊", None) == {"emergency": "no"}
    assert read_facts(tree, "没有转诊", None) == {"referral": "no"}
    assert read_facts(tree, "有转诊单", None) == {"plan": "once", "referral": "yes"}


def test_two_options_named_together_say_neither(kb: KnowledgeBase) -> None:
    tree = kb.trees["chronic_care"]
    assert read_facts(tree, "慢特病", None) == {"kind": "chronic"}
    assert "kind" not in read_facts(tree, "慢特病和特药都想问", None)


def test_digits_and_bare_yes_or_no_answer_only_the_question_asked(kb: KnowledgeBase) -> None:
    tree = kb.trees["remote_care"]
    plan, retired = tree.question("plan"), tree.question("retired")
    assert read_facts(tree, "2", plan) == {"plan": "once"}
    assert read_facts(tree, "9", plan) == {}  # no 9th option
    assert read_facts(tree, "是的", retired) == {"retired": "yes"}
    assert read_facts(tree, "没有", tree.question("moved")) == {"plan": "long_term", "moved": "no"}
    assert read_facts(tree, "是的", plan) == {}  # plan is no yes/no question
    assert read_facts(tree, "是的是的我觉得应该是吧", retired) == {}  # too long for a bare yes


def test_a_document_with_its_own_item_changes_the_item_and_the_verdict(kb: KnowledgeBase) -> None:
    leaf = next(leaf for leaf in kb.trees["maternity"].leaves if leaf.id == "maternity_male")
    assert kb.item_name(leaf.item_for("chenzhou")) == "一次性生育补助金支付"
    assert leaf.item_for("hubei") == "002036007004" and "护理假生育津贴" in leaf.verdict_for("hubei")
    assert "一次性生育补助金" in leaf.verdict_for("changsha")


def test_a_leafs_rules_cite_their_documents_lines(kb: KnowledgeBase) -> None:
    leaf = next(leaf for leaf in kb.trees["remote_care"].leaves if leaf.id == "remote_care_settled")
    assert [rule.citation for rule in leaf.rules_for("hengyang")] == ["衡阳市办事指南第3527–3531行"]
    assert [rule.citation for rule in leaf.rules_for("hubei")] == ["湖北省办事指南第594行"]
    assert "个人承诺书" in leaf.rules_for("chenzhou")[0].say
    assert leaf.rules_for("changsha") == []
