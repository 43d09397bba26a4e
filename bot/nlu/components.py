"""Rasa graph components: text normalisation before tokenising, a gazetteer of knowledge-base names, and the
guard that keeps questions out of small talk."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.matcher import PhraseMatcher

from bot.nlu import rasa_speedups  # noqa: F401  (applies on import: per-message work Rasa repeats, see there)
from bot.nlu.normalization import normalize_text
from knowledge.words import words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Full-width → half-width and traditional → simplified, one character for one, before tokenising."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TextNormalizer:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text:
                message.set(TEXT, normalize_text(text))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise the examples and their annotated entity values alike, so that the synonym mapper learns
        the normalised forms (長沙 in an example becomes 长沙 in both)."""
        self.process(training_data.training_examples)
        for example in training_data.training_examples:
            for entity in example.get(ENTITIES) or []:
                if isinstance(entity.get("value"), str):
                    entity["value"] = normalize_text(entity["value"])
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class KnowledgeGazetteer(GraphComponent, EntityExtractorMixin):
    """Finds the names of the lookup tables (regions, items … generated from the knowledge base) in a message.

    Matching uses spaCy's PhraseMatcher over a blank Chinese pipeline (one token per character), so a name is
    found wherever it stands, without spaces. Longer names win; entities another extractor already found at the
    same place are kept. The values are the names as typed: the EntitySynonymMapper after this component maps
    them to region ids and item codes.
    """

    FILE = "gazetteer.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": ["region", "item", "person_type"]}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 names: Optional[Dict[Text, List[Text]]] = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._nlp = spacy.blank("zh")
        self._matcher = PhraseMatcher(self._nlp.vocab, attr="LOWER")
        self.names = names or {}
        for entity, entity_names in self.names.items():
            self._matcher.add(entity, [self._nlp.make_doc(name) for name in entity_names])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> KnowledgeGazetteer:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> KnowledgeGazetteer:
        with model_storage.read_from(resource) as directory:
            names = json.loads((directory / cls.FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, names)

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self._config["entities"])
        names = {table["name"]: sorted({normalize_text(str(e)) for e in table["elements"]})
                 for table in training_data.lookup_tables if table["name"] in wanted}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def _matches(self, text: str) -> List[Dict[Text, Any]]:
        doc = self._nlp.make_doc(text)
        spans = sorted(((doc[start:end], self._nlp.vocab.strings[key]) for key, start, end in self._matcher(doc)),
                       key=lambda pair: (-len(pair[0].text), pair[0].start_char))
        taken: List[tuple[int, int]] = []
        entities = []
        for span, entity in spans:
            start, end = span.start_char, span.end_char
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            entities.append({"entity": entity, "start": start, "end": end, "value": span.text,
                             "confidence": 1.0})
        return sorted(entities, key=lambda entity: entity["start"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            existing = message.get(ENTITIES, [])
            found = [entity for entity in self._matches(message.get(TEXT) or "")
                     if not any(entity["start"] < other["end"] and other["start"] < entity["end"]
                                and other["entity"] == entity["entity"] for other in existing)]
            message.set(ENTITIES, existing + self.add_extractor_name(found), add_to_output=True)
        return messages


SMALL_TALK_INTENTS = ("greet", "goodbye", "thank", "bot_challenge")
SMALL_TALK_CHARACTERS = 12  # a longer message is not small talk, whatever its first or last words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SmallTalkGuard(GraphComponent):
    """A greeting, thanks or goodbye wrapped around a question (您好 我爸去世了… 谢谢) is no small talk: such a
    message goes to the fallback action, which reads it for its question, instead of being answered 再见."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SmallTalkGuard:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        aspect_words = [word for aspect_words in words().aspects.values() for word in aspect_words]
        for message in messages:
            intent = message.get(INTENT) or {}
            text = "".join((message.get(TEXT) or "").split())
            if intent.get("name") in SMALL_TALK_INTENTS and (
                    len(text) > SMALL_TALK_CHARACTERS or any(word in text for word in aspect_words)):
                message.set(INTENT, {"name": "nlu_fallback", "confidence": intent.get("confidence")},
                            add_to_output=True)
        return messages
