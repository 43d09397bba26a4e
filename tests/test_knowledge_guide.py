"""guide(item, region): every field for the region, with real values from the five documents."""
from __future__ import annotations

import pytest

from knowledge.query import Guide, KnowledgeBase


def phones(guide: Guide, kind: str, qualifier: str | None = None) -> set[str]:
    return {p.text for e in guide.entries for p in e.phones
            if p.extra["kind"] == kind and (qualifier is None or p.extra.get("qualifier") == qualifier)}


def materials(guide: Guide) -> str:
    return "\n".join(m.text for e in guide.entries for m in e.materials)


def time_limits(guide: Guide) -> list[str]:
    return [t.text for e in guide.entries for t in e.time_limits]


# 衡阳: phones differ by item, by county and by 职工/居民 -----------------------------------------------

def test_leiyang_anzhi_phones_differ_for_employees_and_residents(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004001", "耒阳")
    assert phones(guide, "查询", "职工") == {"0734-4269955"}
    assert phones(guide, "查询", "居民") == {"0734-4322176"}
    assert phones(guide, "监督") == {"0734-4351615"}


def test_typo_laiyang_gives_leiyang_guide(kb: KnowledgeBase) -> None:
    assert kb.guide("002036004001", "来阳").region.name == "耒阳市"


def test_qidong_long_residence_numbers_differ_from_its_anzhi_number(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036004001", "祁东"), "查询") == {"0734-6286968"}
    assert phones(kb.guide("002036004002", "祁东"), "查询") == {"0734-6305852", "0734-6305855"}


def test_hengyang_city_level_beian_phone_is_the_remote_care_desk(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004001", "衡阳市本级")
    assert phones(guide, "查询") == {"0734-8867038"}
    assert phones(guide, "监督") == {"0734-2668302", "0734-2668308"}


def test_hengyang_city_level_enrolment_phones(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036001001", "衡阳"), "查询") == {"0734-8867040", "0734-8867195"}


def test_hengyang_maternity_desk_phone(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036007004", "衡阳"), "查询") == {"0734-8867030"}


def test_nanyue_emergency_beian_uses_the_resident_number(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036004005", "南岳区"), "查询") == {"0734-5678916"}


def test_leiyang_designated_pharmacy_address_moved_to_shenlong_road(kb: KnowledgeBase) -> None:
    assert [o.text for e in kb.guide("002036009002", "耒阳").entries for o in e.offices] == ["耒阳市神龙路28号"]
    assert [o.text for e in kb.guide("002036004001", "耒阳").entries for o in e.offices] == ["耒阳市西湖南路566号"]


def test_zhengxiang_address_survives_the_split_line(kb: KnowledgeBase) -> None:
    offices = [o.text for e in kb.guide("002036001002", "蒸湘区").entries for o in e.offices]
    assert offices == ["蒸湘区政府内政务大厅东附一楼"]


def test_hengyang_anzhi_materials_and_form(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004001", "衡阳")
    text = materials(guide)
    assert "常住人口登记卡" in text and "衡阳市异地就医备案登记表" in text
    assert "承诺书" not in text
    assert time_limits(guide) == ["即时办结"]
    assert {c.extra["name"] for e in guide.entries for c in e.online_channels} >= {"湘医保", "智慧人社"}


def test_hengyang_flexible_workers_form_notes_state_the_payment_period(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036001002", "衡阳")
    notes = " ".join(n.text for e in guide.entries for f in e.forms for n in f.extra.get("notes", []))
    assert "1月1日至2月28日" in notes and "等待期" in notes


def test_hengyang_mtb_hospitals_have_their_phones(kb: KnowledgeBase) -> None:
    hospitals = {p.extra["hospital"]: p.text for e in kb.guide("002036005001", "衡阳").entries
                 for p in e.phones if p.extra["kind"] == "医院"}
    assert hospitals["南华大学附属第一医院"] == "0734-8279028"
    assert hospitals["市第二精神病医院"] == "15973453086"


def test_hengyang_emergency_beian_has_a_three_day_deadline(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004005", "衡阳")
    everything = " ".join([materials(guide)] + [f.text for e in guide.entries for f in e.notes + e.process]
                          + [s.text for e in guide.entries for s in e.sections.values()])
    assert "三个工作日" in everything.replace(" ", "")


def test_hengyang_personal_account_death_materials(kb: KnowledgeBase) -> None:
    text = materials(kb.guide("002036002003", "衡阳"))
    assert "衡阳市职工基本医疗保险个人账户一次性支取申请表" in text
    assert "死者本人银行卡" in text and "继承权公证书" in text


def test_hengyang_guide_never_cites_the_2020_list(kb: KnowledgeBase) -> None:
    for code in ("002036001001", "002036006002", "002036010002"):
        for entry in kb.guide(code, "衡阳").entries:
            assert entry.source.last_line <= 8157
            assert all(m.source.last_line <= 8157 for m in entry.materials)


# 郴州: no offices or phones (附件2 missing) -------------------------------------------------------

def test_yizhang_routes_to_chenzhou_with_the_annex_gap(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036007004", "宜章")
    assert guide.document.id == "chenzhou" and guide.region.city == "郴州市"
    assert not any(e.phones or e.offices for e in guide.entries)
    assert any("附件2" in gap.statement and "phone" in gap.aspects for gap in guide.gaps)
    assert time_limits(guide) == ["不超过18个工作日"]


def test_chenzhou_prenatal_only_needs_the_hospital_receipt(kb: KnowledgeBase) -> None:
    assert "医院收费票据" in materials(kb.guide("002036007001", "郴州"))


def test_chenzhou_account_withdrawal_takes_seven_days(kb: KnowledgeBase) -> None:
    assert time_limits(kb.guide("002036002003", "郴州")) == ["不超过7个工作日"]


def test_chenzhou_beian_online_and_offline_limits(kb: KnowledgeBase) -> None:
    limits = {(t.condition, t.text) for e in kb.guide("002036004001", "郴州").entries for t in e.time_limits}
    assert any("2个工作日" in text for _, text in limits) and any("即时办结" in text for _, text in limits)


def test_chenzhou_online_hall_url(kb: KnowledgeBase) -> None:
    texts = " ".join(c.text for e in kb.guide("002036002002", "郴州").entries for c in e.online_channels)
    assert "湘医保" in texts


# 长沙: offices with phones, district supervision phones, local sub-items ------------------------------

def test_wangcheng_outpatient_reimbursement_office_and_phone(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036006001", "望城区")
    assert any("望府路198号" in o.text.replace(" ", "") for e in guide.entries for o in e.offices)
    assert "88083318" in phones(guide, "办理")
    assert phones(guide, "监督") == {"88367427"}


def test_changsha_city_level_allowance_supervision_phone(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036007004", "长沙市本级"), "监督") == {"82116227"}


def test_changsha_enrolment_items_use_the_single_social_security_supervision_phone(kb: KnowledgeBase) -> None:
    assert phones(kb.guide("002036001001", "芙蓉区"), "监督") == {"84907806"}


def test_changsha_personal_account_has_four_local_sub_items(kb: KnowledgeBase) -> None:
    keys = [e.key for e in kb.guide("002036002003", "长沙").entries]
    assert keys == ["002036002003-1", "002036002003-2", "002036002003-3", "002036002003-4"]


def test_changsha_death_account_materials(kb: KnowledgeBase) -> None:
    text = materials(kb.guide("002036002003-2", "长沙"))
    assert "直系亲属身份证复印件" in text and "承诺书" in text


def test_changsha_local_item_0731_1(kb: KnowledgeBase) -> None:
    guide = kb.guide("0731-1", "长沙")
    assert [e.name for e in guide.entries] == ["医保个人账户信息查询"]


def test_changsha_special_outpatient_sub_items_only_at_five_offices(kb: KnowledgeBase) -> None:
    assert not [o for e in kb.guide("002036005001-0", "芙蓉区").entries for o in e.offices]
    assert [o for e in kb.guide("002036005001-0", "浏阳").entries for o in e.offices]


def test_changsha_inpatient_reimbursement_takes_30_days(kb: KnowledgeBase) -> None:
    assert time_limits(kb.guide("002036006002", "长沙")) == ["不超过30个工作日"]


def test_changsha_foreigner_account_materials(kb: KnowledgeBase) -> None:
    text = materials(kb.guide("002036002003-4", "长沙"))
    assert "护照复印件" in text and "合同到期证明" in text


# Other Hunan cities: the 2025 list -------------------------------------------------------------------

def test_zhuzhou_routes_to_the_2025_list(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036007004", "株洲")
    assert guide.document.id == "hunan2025"
    assert time_limits(guide) == ["不超过10个工作日"]
    assert "湖南省一次性生育补助金申领表" in materials(guide)


def test_2025_list_splits_employee_enrolment_into_six_rows(kb: KnowledgeBase) -> None:
    assert [e.row for e in kb.guide("002036001002", "湘潭").entries] == [3, 4, 5, 6, 7, 8]


def test_2025_list_unit_cancellation_row(kb: KnowledgeBase) -> None:
    entry = next(e for e in kb.guide("002036001001", "湘潭").entries if e.row == 2)
    assert entry.name == "单位注销登记"
    assert "单位批准注销的文件" in " ".join(m.text for m in entry.materials)


def test_2025_list_online_beian_takes_two_working_days(kb: KnowledgeBase) -> None:
    limits = {t.condition: t.text for e in kb.guide("002036004001", "常德").entries for t in e.time_limits}
    assert any("2个工作日" in text for text in limits.values())


def test_2025_list_legal_basis_is_copied_to_every_row_of_its_sub_item(kb: KnowledgeBase) -> None:
    entries = kb.guide("002036001002", "湘潭").entries
    assert all(e.legal_basis for e in entries)
    assert len({tuple(f.text for f in e.legal_basis) for e in entries}) == 1


def test_2025_list_beian_legal_basis_names_the_2022_notices(kb: KnowledgeBase) -> None:
    basis = " ".join(f.text for e in kb.guide("002036004001", "岳阳").entries for f in e.legal_basis)
    assert "2022" in basis and "22号" in basis


def test_2025_list_temporary_trip_replaces_emergency_beian(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004005", "岳阳")
    assert [e.name for e in guide.entries] == ["其他临时外出就医人员备案"]
    assert "湖南省异地就医备案登记表" in materials(guide)


def test_2025_list_mtb_online_limit_is_seven_days(kb: KnowledgeBase) -> None:
    assert any("7个工作日" in t for t in time_limits(kb.guide("002036005001", "益阳")))


def test_2025_list_has_no_offices_and_says_so(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036004001", "怀化")
    assert not any(e.offices or e.phones for e in guide.entries)
    assert any("phone" in gap.aspects for gap in guide.gaps)


def test_2025_list_general_notes_define_valid_id(kb: KnowledgeBase) -> None:
    notes = " ".join(n.text for n in kb.general_notes("hunan2025"))
    assert "有效身份证件包括身份证" in notes and "按本事项清单执行" in notes


# Hubei ------------------------------------------------------------------------------------------------

def test_wuhan_routes_to_the_hubei_guide_with_instant_unit_enrolment(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036001001", "武汉")
    assert guide.document.id == "hubei"
    assert time_limits(guide) == ["即时办结"]


def test_hubei_has_no_statutory_gap_payment_item(kb: KnowledgeBase) -> None:
    assert kb.guide("002036001007", "宜昌").absent


def test_hubei_male_nursing_leave_allowance(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036007004", "武汉")
    text = " ".join([s.text for e in guide.entries for s in e.sections.values()]
                    + [n.text for e in guide.entries for n in e.notes])
    assert "护理假生育津贴" in text


def test_hubei_designation_materials_refer_to_the_agreement_rules(kb: KnowledgeBase) -> None:
    guide = kb.guide("002036009001", "黄石")
    assert "两定机构协议管理办法" in materials(guide)
    assert time_limits(guide) == ["不超过90个工作日"]


# Conflicts and gaps ---------------------------------------------------------------------------------

def test_hengyang_outpatient_limit_conflicts_with_the_2025_list(kb: KnowledgeBase) -> None:
    conflicts = [c for c in kb.guide("002036006001", "衡阳").conflicts if c.aspect == "time_limit"]
    assert conflicts and "25个工作日" in conflicts[0].hunan2025.text


def test_chenzhou_allowance_limit_conflicts_with_the_2025_list(kb: KnowledgeBase) -> None:
    conflicts = [c for c in kb.guide("002036007004", "郴州").conflicts if c.aspect == "time_limit"]
    assert conflicts and "10个工作日" in conflicts[0].hunan2025.text


def test_no_conflicts_are_reported_for_the_2025_list_itself(kb: KnowledgeBase) -> None:
    assert kb.guide("002036006001", "株洲").conflicts == []


def test_amounts_are_a_recorded_gap(kb: KnowledgeBase) -> None:
    assert any("amount" in gap.aspects for gap in kb.guide("002036007004", "长沙").gaps)


def test_city_guides_have_no_legal_basis_and_point_to_the_2025_list(kb: KnowledgeBase) -> None:
    gaps = [g for g in kb.guide("002036004001", "衡阳").gaps if "legal_basis" in g.aspects]
    assert gaps and "hunan2025" in gaps[0].offer


# Items by free text ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("异地安置备案", "002036004001"), ("生育津贴", "002036007004"), ("特门", "002036005001"),
        ("慢病", "002036005001"), ("双通道", "002036005002"), ("医保转移", "00203600300Y"),
        ("住院报销", "002036006002"), ("异地备案", "00203600400Y"), ("生育险", "00203600700Y"),
        ("医保卡里的钱怎么取", "002036002003"), ("断档补缴", "002036001007"),
    ],
)
def test_items_are_found_from_what_citizens_type(kb: KnowledgeBase, text: str, code: str) -> None:
    assert kb.find_items(text)[0].code == code


def test_full_text_search_finds_items_by_material_words(kb: KnowledgeBase) -> None:
    codes = [m.code for m in kb.search("常住人口登记卡")]
    assert "002036004001" in codes


def test_every_source_is_cited_with_document_and_lines(kb: KnowledgeBase) -> None:
    fact = kb.guide("002036004001", "耒阳").entries[0].materials[0]
    assert fact.source.document == "hengyang" and fact.source.first_line > 3468
    assert "衡阳市医疗保障经办政务服务事项办事指南" in fact.source.citation


def test_full_text_search_survives_control_characters(kb: KnowledgeBase) -> None:
    assert kb.search("\x00异地\x07备案") and kb.find_items("\x00\x1f") == []


def test_the_item_a_document_answers_for_one_it_does_not_list(kb: KnowledgeBase) -> None:
    assert kb.answered_as("002036001008", "hengyang") == "002036001008"
    assert kb.answered_as("002036001008", "hunan2025") == "002036001002"  # 退休人员死亡停保: 减少登记 rows
    assert kb.answered_as("002036007005", "hunan2025") == "002036007004"
    assert kb.answered_as("002036002003-2", "hengyang") == "002036002003"  # 长沙's 死亡销户 key: 衡阳's 一次性支取
    assert kb.answered_as("0731-1", "changsha") == "0731-1"
    assert kb.answered_as("0731-1", "hengyang") is None
