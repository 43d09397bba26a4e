"""The knowledge-base CLI for people: python -m knowledge COMMAND (see --help)."""
from __future__ import annotations

import argparse
import sys
import time

from knowledge.build import BuildError, build
from knowledge.query import Guide, KnowledgeBaseError, open_knowledge_base


def _print_guide(guide: Guide) -> None:
    where = guide.region.label if guide.region else "（未指定地区）"
    print(f"{guide.code} · {where} · {guide.document.citation}")
    if guide.absent:
        print("  该文件未列此事项。")
    for entry in guide.entries:
        print(f"\n■ {entry.name}（{entry.local_code or entry.code or ''}{'#' + str(entry.row) if entry.row else ''}）"
              f"  [{entry.source.citation}]")
        for name, section in entry.sections.items():
            print(f"  {name}：{section.text}  [{section.source.first_line}]")
        for title, facts in (("办理流程", entry.process), ("办理材料", entry.materials), ("办理时限", entry.time_limits),
                             ("备注", entry.notes), ("设定依据", entry.legal_basis), ("线上渠道", entry.online_channels)):
            for fact in facts:
                condition = f"〔{fact.condition}〕" if fact.condition else ""
                print(f"  {title}：{condition}{fact.text}  [{fact.source.first_line}]")
        for form in entry.forms:
            print(f"  表格：{form.text}（{form.extra.get('number') or '未附样表'}）  [{form.source.first_line}]")
            for note in form.extra.get("notes", []):
                print(f"    表上提示：{note.text}  [{note.source.first_line}]")
        for office in entry.offices:
            print(f"  地址：{office.extra['unit']}：{office.text}  [{office.source.first_line}]")
        for phone in entry.phones:
            owner = phone.extra.get("unit") or phone.extra.get("hospital") or ""
            qualifier = f"（{phone.extra['qualifier']}）" if phone.extra.get("qualifier") else ""
            print(f"  电话·{phone.extra['kind']}：{owner} {phone.text}{qualifier}  [{phone.source.first_line}]")
    for conflict in guide.conflicts:
        rule = conflict.hunan2025.text if conflict.hunan2025 else conflict.note
        print(f"\n⚠ 与湖南省2025年版清单不一致（{conflict.topic}）：清单为“{rule}”")
    for gap in guide.gaps:
        print(f"ⓘ {gap.statement}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="validate the data files and build knowledge.db")
    show = commands.add_parser("show", help="the full guide of an item for a region")
    show.add_argument("item", help="code (002036004001), local code (0731-1) or name/alias (异地安置)")
    show.add_argument("--region", help="city or county, e.g. 耒阳")
    show.add_argument("--document", help="hengyang | chenzhou | changsha | hunan2025 | hubei")
    search = commands.add_parser("search", help="find items by free text")
    search.add_argument("words", nargs="+")
    region = commands.add_parser("region", help="resolve a place name to its region and serving document")
    region.add_argument("name")
    stats = commands.add_parser("stats", help="per document: items, materials, offices, phones, conflicts, gaps")
    stats.add_argument("--total", action="store_true", help="one line with the totals")
    corrections = commands.add_parser("corrections", help="record hand edits of a document file as corrections")
    corrections.add_argument("document")
    corrections.add_argument("--reason", required=True)
    args = parser.parse_args(argv)

    if args.command == "build":
        started = time.perf_counter()
        try:
            path = build()
        except BuildError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"built {path} in {time.perf_counter() - started:.1f} s")
        return 0
    if args.command == "corrections":
        from knowledge.review import record_corrections
        recorded = record_corrections(args.document, args.reason)
        print(f"recorded {len(recorded)} corrections in knowledge/data/corrections/{args.document}.yml")
        return 0
    try:
        kb = open_knowledge_base()
    except KnowledgeBaseError as error:
        print(error, file=sys.stderr)
        return 1
    if args.command == "show":
        try:
            _print_guide(kb.guide(args.item, args.region, args.document))
        except (KeyError, ValueError) as error:
            print(f"error: {error.args[0]}", file=sys.stderr)
            return 2
    elif args.command == "search":
        for match in kb.find_items(" ".join(args.words), limit=10):
            print(f"{match.code}\t{match.name}\t(matched {match.matched})")
    elif args.command == "region":
        resolution = kb.resolve_region(args.name)
        if resolution.region:
            r = resolution.region
            print(f"{r.label}\t{r.level}\t{r.document or '不在资料覆盖范围'}\t{r.unit or ''}")
        elif resolution.alternatives:
            print("ambiguous: " + ", ".join(r.label for r in resolution.alternatives))
        else:
            print("unknown place")
            return 2
    elif args.command == "stats":
        table = kb.stats()
        columns = list(next(iter(table.values())))
        if args.total:
            print(", ".join(f"{sum(row[c] for row in table.values())} {c}" for c in columns))
            return 0
        print("document\t" + "\t".join(columns))
        for document, row in table.items():
            print(document + "\t" + "\t".join(str(row[c]) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
