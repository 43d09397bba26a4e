"""The eligibility trees (data/eligibility.yml): questions, options and leaves with their quoted rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.manifest import documents


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    words: tuple[str, ...]
    implies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    slot: str
    ask: str
    explain: str
    options: tuple[Option, ...]
    ask_if: dict[str, str] = field(default_factory=dict)

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class Rule:
    """What one document says that changes a leaf's outcome: the sentence to say and the quote behind it."""
    say: str
    quote: str
    document: str
    lines: tuple[int, int]

    @property
    def citation(self) -> str:
        first, last = self.lines
        where = f"第{first}行" if first == last else f"第{first}–{last}行"
        return f"{documents()[self.document].short}{where}"


@dataclass(frozen=True)
class Leaf:
    id: str
    when: dict[str, str]
    verdict: str
    item: str | None
    words: str
    documents: tuple[str, ...]
    aspects: tuple[str, ...]
    rules: tuple[Rule, ...]
    name: str | None = None  # what the leaf is called where it differs from its item's name
    item_in: dict[str, str] = field(default_factory=dict)  # a document whose own item applies instead
    verdict_in: dict[str, str] = field(default_factory=dict)  # a document whose rules change the verdict

    def item_for(self, document: str) -> str | None:
        return self.item_in.get(document, self.item)

    def verdict_for(self, document: str) -> str:
        return self.verdict_in.get(document, self.verdict)

    def rules_for(self, document: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.document == document]


@dataclass(frozen=True)
class Tree:
    id: str
    name: str
    item: str | None
    start_words: tuple[str, ...]
    questions: tuple[Question, ...]
    leaves: tuple[Leaf, ...]
    status: bool = False  # the start words are the person's status (低保): they lead over a situation's item
    same_answer: tuple[tuple[str, ...], ...] = ()  # leaves whose answers are the same: no question between them

    def question(self, slot: str) -> Question:
        return next(question for question in self.questions if question.slot == slot)

    def leaf(self, facts: dict[str, str]) -> Leaf | None:
        """The first leaf whose conditions the facts meet; or, when every leaf the facts still allow leads to the
        same item, those leaves as one (no question needs asking: its answer would not change the facts given)."""
        reached = next((leaf for leaf in self.leaves
                        if all(facts.get(slot) == value for slot, value in leaf.when.items())), None)
        if reached is not None or not facts:
            return reached
        possible = [leaf.id for leaf in self.leaves
                    if all(facts.get(slot, value) == value for slot, value in leaf.when.items())]
        group = next((group for group in self.same_answer if len(possible) > 1 and set(possible) <= set(group)), None)
        return _joined([leaf for leaf in self.leaves if leaf.id in possible], facts) if group else None

    def next_question(self, facts: dict[str, str]) -> Question | None:
        """The first unanswered question on the path the facts have taken, unless no answer would change it."""
        if self.leaf(facts) is not None:
            return None
        return next((question for question in self.questions if question.slot not in facts
                     and all(facts.get(slot) == value for slot, value in question.ask_if.items())), None)


def _joined(leaves: list[Leaf], facts: dict[str, str]) -> Leaf:
    """Leaves that lead to the same item, as one: each verdict (they name their own case), every rule once."""
    first = leaves[0]
    rules = tuple(dict.fromkeys(rule for leaf in leaves for rule in leaf.rules))
    aspects = tuple(dict.fromkeys(aspect for leaf in leaves for aspect in leaf.aspects))
    verdicts = "\n".join(dict.fromkeys(leaf.verdict for leaf in leaves))
    return Leaf("+".join(leaf.id for leaf in leaves), dict(facts), verdicts, first.item, first.words,
                first.documents, aspects, rules, first.name, first.item_in, first.verdict_in)


def parse_tree(data: dict[str, Any]) -> Tree:
    questions = tuple(
        Question(q["slot"], q["ask"], q["explain"],
                 tuple(Option(str(o["value"]), o["label"], tuple(o["words"]),
                              {k: str(v) for k, v in (o.get("implies") or {}).items()}) for o in q["options"]),
                 {k: str(v) for k, v in (q.get("ask_if") or {}).items()})
        for q in data["questions"])
    leaves = tuple(
        Leaf(leaf["id"], {k: str(v) for k, v in leaf["when"].items()}, leaf["verdict"], leaf.get("item"),
             leaf.get("words", ""), tuple(leaf.get("documents") or ()), tuple(leaf.get("aspects") or ("overview",)),
             tuple(Rule(r["say"], r["quote"], r["document"], tuple(r["lines"])) for r in leaf.get("rules") or ()),
             leaf.get("name"), dict(leaf.get("item_in") or {}), dict(leaf.get("verdict_in") or {}))
        for leaf in data["leaves"])
    return Tree(data["id"], data["name"], data.get("item"), tuple(data.get("start_words") or ()), questions, leaves,
                bool(data.get("status")), tuple(tuple(group) for group in data.get("same_answer") or ()))


def tree_problems(tree: Tree, codes: set[str]) -> list[str]:
    """Inconsistencies a reviewer must fix: unknown items, slots or values, leaves no answer can reach."""
    problems = []
    slots = {question.slot: {option.value for option in question.options} for question in tree.questions}
    for question in tree.questions:
        for option in question.options:
            for slot, value in {**option.implies}.items():
                if value not in slots.get(slot, set()):
                    problems.append(f"{tree.id}.{question.slot}.{option.value}: implies unknown {slot}={value}")
        for slot, value in question.ask_if.items():
            if value not in slots.get(slot, set()):
                problems.append(f"{tree.id}.{question.slot}: ask_if unknown {slot}={value}")
    for leaf in tree.leaves:
        for item in [leaf.item, *leaf.item_in.values()]:
            if item is not None and item not in codes:
                problems.append(f"{leaf.id}: unknown item {item}")
        for slot, value in leaf.when.items():
            if value not in slots.get(slot, set()):
                problems.append(f"{leaf.id}: when unknown {slot}={value}")
    leaves = {leaf.id: leaf for leaf in tree.leaves}
    for group in tree.same_answer:
        if not set(group) <= set(leaves):
            problems.append(f"{tree.id}: same_answer names unknown leaves {sorted(set(group) - set(leaves))}")
        elif len({(leaves[i].item, leaves[i].words, tuple(sorted(leaves[i].item_in.items()))) for i in group}) > 1:
            problems.append(f"{tree.id}: same_answer leaves {list(group)} lead to different items or entries")
    if tree.item is not None and tree.item not in codes:
        problems.append(f"{tree.id}: unknown item {tree.item}")
    return problems
