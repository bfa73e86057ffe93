"""The one decision: retrieve, then refuse, small-talk, say "I don't know" (and where to ask),
or answer from an entry, optionally as a follow-up of the previous answer.

`decide_question` is used by the live turn (`Engine._decide`), the editor's "try a question"
and `voice-agent eval`; `decide` is its pure rule set (the eval's threshold sweep re-runs it
on stored retrieval results). Rules (README, "How answers are chosen"):

1. an injection cue -> off_topic; small talk -> its intent; off the domain -> off_topic. Small
   talk is its nearest exemplar's intent where that exemplar is near; a request for a person
   is also recognised by the person model (screening.py) where its nearest exemplar is one
   but not near enough ("I've waited six months for my card, I need to talk to someone").
   Where the nearest exemplar asks what the assistant is, the discriminant between the two
   intents decides ("can I talk to a real person?" is a request, "are you one?" is not). A
   request for a person that is off the domain on both the domain model and the classifier
   ("tell me a joke") is not one: it is refused like any off-topic question. A goodbye or
   thanks is never a question: one that ends with a question mark ("weather tomorrow?", near
   "see you tomorrow") is left to the other rules.
2. no entry scores above the answer threshold -> no_answer. The threshold is on the semantic
   score (`Hit.semantic`): the lexical bonus orders near ties, it is no evidence of cover.
3. the question is about as close to in-domain questions the FAQ does not cover
   (data/uncovered.yaml; the mean of the two nearest of one area) as to the best entry's own
   questions (the mean of its two nearest) -> no_answer. This is what keeps
   "how do I register a company?" from getting the self-employment entry.
4. otherwise the best entry that is still published: an entry unpublished between the
   search and this decision is skipped, never a KeyError.
5. before rules 2-4: where the classifier (classifier.py) puts the question in one class
   with a posterior of at least `classifier_sure`, that class decides. A published entry's
   class -> that entry, even where the similarity left it below the bar or ranked another
   entry first; its confidence stays that of the entry's own similarity score (below 0.5, or
   0 outside the top hits, for one the similarity had declined), so such an answer still
   reaches the content team's inbox as a low-confidence one. An uncovered area's class ->
   no_answer, naming that area's office. The off-topic class leaves it to the rules, and so
   does a class, or a first entry by similarity, with fewer than 20 texts (a new entry not
   yet translated: classifier.MIN_TEXTS), and a question that repeats one of the first
   entry's own texts (`classifier_own_words`).

A no_answer names the office to ask (data/routes.yaml): the classifier's area when rule 5
fired, the area of the nearest uncovered question when rule 3 fired, else the area of the
nearest entry's topic if that entry is not far (`route_topic_min`), else the migrant helpline.

Follow-ups: with a `Context` (the previous answered entry and its question), the question is
also retrieved together with the previous one. A short question that does not decide well on
its own ("and where do I do that?", "e se eu não tiver morada?") is decided in that context,
and the decision names the entry it came from (`context_from`). A question that answers well
on its own, or is clearly about a known uncovered topic, is a change of subject and is never
dragged back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from voice_agent.answer.classifier import NOTHING, OFF_TOPIC, Classified
from voice_agent.answer.retrieval import RetrievalResult, Retriever
from voice_agent.answer.routes import Route, Routes
from voice_agent.answer.screening import IDENTITY, PERSON, QUESTION_MARKS, Screening
from voice_agent.config import RetrievalSettings
from voice_agent.content.faq import FaqEntry

# Small talk that is never a question: "weather tomorrow?" sits near "see you tomorrow" in e5
NEVER_ASKED = ("thanks", "goodbye")


@dataclass(frozen=True, slots=True)
class Decision:
    # faq | no_answer | off_topic | didnt_hear | greeting | thanks | goodbye | identity | human
    kind: str
    language: str
    entry: FaqEntry | None
    confidence: float
    handoff: bool
    route: Route | None = None  # no_answer: the office to ask instead (data/routes.yaml)
    context_from: str | None = None  # decided as a follow-up of this entry's answer
    # faq: the citizen also asked for a person ("... how do I renew? I'd rather talk to
    # someone"): the entry is answered and staff are called
    asks_person: bool = False

    @property
    def calls_staff(self) -> bool:
        """This decision asks the desk for a person at once (not after repeated misses)."""
        return self.kind == PERSON or self.asks_person

    @property
    def faq_id(self) -> str | None:
        return self.entry.id if self.entry else None

    @property
    def link(self) -> str | None:
        if self.entry is not None:
            return self.entry.link
        return self.route.link if self.route is not None else None

    @property
    def status(self) -> str | None:
        """Review status of the answer text spoken (reviewed | machine-translated | draft)."""
        if self.entry is None:
            return None
        code, _text = self.entry.answer_in(self.language)
        return self.entry.languages[code].status


class Remembered(Protocol):
    """What a conversation remembers of its last answered turn (Context, or the conversation
    core's own record of it: the same four attributes)."""

    @property
    def faq_id(self) -> str: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def question(self) -> str: ...
    @property
    def language(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Context:
    """The last answered turn: its entry, the entry's topic, the question, its language."""

    faq_id: str
    topic: str | None
    question: str
    language: str


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision and its retrievals: the question alone, and with the previous question."""

    decision: Decision
    alone: RetrievalResult
    joined: RetrievalResult | None = None

    @property
    def result(self) -> RetrievalResult:
        """The retrieval the decision was made from (the ranking "try a question" shows)."""
        if self.decision.context_from and self.joined is not None:
            return self.joined
        return self.alone

    def bus_message(self, turn_id: str, text: str) -> dict[str, Any]:
        """The `decision` message observers get (staff feed, unanswered-question inbox)."""
        d, best = self.decision, self.result.best
        return {
            "type": "decision",
            "turn_id": turn_id,
            "text": text,
            "language": d.language,
            "kind": d.kind,
            "faq_id": d.faq_id,
            "confidence": d.confidence,
            "best_entry": best.entry_id if best else None,
            "best_score": round(best.score, 4) if best else None,
            "area": d.route.area if d.route else None,
            "context_from": d.context_from,
        }


def confidence(score: float, threshold: float) -> float:
    """The fused score as 0..1, 0.5 at the answer threshold."""
    return round(1.0 / (1.0 + math.exp(-(score - threshold) / 0.02)), 4)


def decide(
    result: RetrievalResult,
    language: str,
    settings: RetrievalSettings,
    entries: Mapping[str, FaqEntry],
    routes: Routes | None = None,
) -> Decision:
    """Rules 1-5 above for one retrieval result (pure: no search, no I/O)."""
    hits = [h for h in result.hits if h.entry_id in entries]  # unpublished meanwhile: skipped
    best = hits[0] if hits else None
    sc = result.screening
    conf = confidence(best.score, settings.answer_threshold) if best else 0.0
    if sc.injection is not None:
        return Decision("off_topic", language, None, conf, False)
    c = sc.classified
    intent = sc.intent
    if intent == IDENTITY and sc.not_me >= settings.person_margin:
        intent = PERSON  # "can I talk to a real person?", nearest to "are you a real person?"
    said = (
        intent is not None
        and sc.intent_score >= settings.smalltalk_threshold
        and (best is None or sc.intent_score >= best.question)
        and not (intent in NEVER_ASKED and sc.asked)
    )
    asks = intent == PERSON and sc.person >= settings.person_margin
    if (said or asks) and not (intent == PERSON and _entertain_me(sc.domain, c, settings)):
        return Decision(intent or PERSON, language, None, conf, intent == PERSON)
    if sc.domain < settings.domain_threshold:
        return Decision("off_topic", language, None, conf, False)
    # it speaks only where it knows both its class and the similarity's first entry well, and
    # never against an entry whose own words the question repeats
    well_known = c.label in c.known and (best is None or best.entry_id in c.known)
    own_words = best is not None and best.question >= settings.classifier_own_words
    sure = c if c.p >= settings.classifier_sure and well_known and not own_words else NOTHING
    if sure.entry_id is not None and sure.entry_id in entries:  # rule 5
        own = _score_of(result, sure.entry_id)
        own_conf = confidence(own, settings.answer_threshold) if own is not None else 0.0
        return Decision("faq", language, entries[sure.entry_id], own_conf, False)
    uncovered = sc.area is not None and sc.uncovered >= settings.uncovered_min
    if (
        sure.area is not None  # rule 5
        or best is None
        or best.semantic < settings.answer_threshold
        or (uncovered and sc.uncovered_top >= best.question_top - settings.uncovered_margin)
    ):
        route = None
        if routes is not None:
            near = best is not None and best.score >= settings.route_topic_min
            topic = entries[best.entry_id].topic if best is not None and near else None
            route = routes.resolve((sc.area if uncovered else None) or sure.area, topic)
        return Decision("no_answer", language, None, conf, True, route)
    return Decision("faq", language, entries[best.entry_id], conf, False)


def _entertain_me(domain: float, c: Classified, settings: RetrievalSettings) -> bool:
    """Words that read as asking for a person but are off the domain on both counts ("tell
    me a joke", "sing me a song"): rule 1 refuses them instead of calling staff."""
    return (
        domain < settings.human_off_domain and c.label == OFF_TOPIC and c.p >= settings.human_off_p
    )


def is_short(text: str, max_words: int) -> bool:
    """A follow-up is short: few words, or few characters in a script without spaces."""
    words = text.split()
    if len(words) == 1:
        return len(text) <= 2 * max_words
    return len(words) <= max_words


def _score_of(result: RetrievalResult, entry_id: str) -> float | None:
    return next((h.score for h in result.hits if h.entry_id == entry_id), None)


def decided_alone(
    alone: Decision,
    alone_result: RetrievalResult,
    text: str,
    context: Remembered,
    settings: RetrievalSettings,
) -> bool:
    """Whether a question asked after `context` is decided on its own, whatever it would read
    like with the previous one: then the search with the previous question is not needed."""
    sc = alone_result.screening
    if sc.injection is not None:
        return True  # injections stand on their own
    if not is_short(text, settings.followup_max_words):
        return True
    small_talk = alone.kind not in ("faq", "no_answer", "off_topic")
    if small_talk and sc.intent_score >= settings.followup_smalltalk:
        return True  # "thanks", "I want a person"; "¿y mientras espero?" is only loosely so
    if alone.kind == "no_answer" and sc.uncovered >= settings.followup_switch_uncovered:
        return True  # clearly a topic the FAQ does not cover: not dragged back
    best = alone_result.best
    if alone.kind == "faq" and best is not None and alone.faq_id != context.faq_id:
        previous = _score_of(alone_result, context.faq_id)
        margin = best.score - (previous if previous is not None else -1.0)
        if best.score >= settings.followup_switch and margin >= settings.followup_switch_margin:
            return True  # answers well on its own, and not with the previous entry
    return False


def followed(
    alone: Decision,
    alone_result: RetrievalResult,
    together: Decision,
    joined_result: RetrievalResult,
    context: Remembered,
    settings: RetrievalSettings,
    entries: Mapping[str, FaqEntry],
) -> Decision:
    """The decision of a question asked after `context` that is not `decided_alone`: read
    with the previous one.

    A change of subject is kept alone (`decided_alone`). Otherwise a short question is read
    with the previous one, and stays on the previous entry unless another entry is clearly
    better (`followup_stay`): a follow-up usually continues the same entry.
    """
    if together.kind != "faq":
        return alone
    chosen = together
    stay = _score_of(joined_result, context.faq_id)
    top = joined_result.best
    if (
        together.faq_id != context.faq_id
        and stay is not None
        and top is not None
        and stay >= top.score - settings.followup_stay
        and context.faq_id in entries
    ):
        chosen = replace(together, entry=entries[context.faq_id])
    return replace(chosen, context_from=context.faq_id)


def decide_all(
    alone: RetrievalResult,
    joined: RetrievalResult | None,
    text: str,
    language: str,
    settings: RetrievalSettings,
    entries: Mapping[str, FaqEntry],
    routes: Routes | None,
    context: Remembered | None,
) -> Decided:
    """The whole rule set on stored retrievals: the question alone, and with the context
    (`joined`: None where it was not searched, as the question was `decided_alone`)."""
    decision = decide(alone, language, settings, entries, routes)
    if context is None or joined is None or decided_alone(decision, alone, text, context, settings):
        return Decided(decision, alone, joined)
    together = decide(joined, language, settings, entries, routes)
    chosen = followed(decision, alone, together, joined, context, settings, entries)
    return Decided(chosen, alone, joined)


OPENINGS = ("greeting", "thanks")  # set aside before a question ("Bom dia, ...", "谢谢，...")
MAX_OPENING_CHARS = 40  # "Здравствуйте", "السلام علیکم"; "你好" has no spaces to count
MAX_OPENINGS = 2  # "Olá! Bom dia! ..."; a text of nothing but greetings is not searched 400 times
_CLAUSE_END = re.compile(r"[,.!?;:，。！？；：、،؛؟۔।]")
_PUNCTUATION = " ,.!?;:，。！？；：、،؛؟۔।¡¿"
CLOSING_WORDS = 8  # the end of a long text without a clause mark: its last 8 words


def closing(text: str) -> str | None:
    """The end of a longer text, where a citizen who tells the problem first asks for a
    person: its last clause, else its last CLOSING_WORDS words."""
    body = text.rstrip(_PUNCTUATION)
    ends = list(_CLAUSE_END.finditer(body))
    if ends:
        last = body[ends[-1].end() :].strip(_PUNCTUATION)
        if last and len(last.split()) <= 2 * CLOSING_WORDS:
            return last
    words = body.split()
    if len(words) > 2 * CLOSING_WORDS:
        return " ".join(words[-CLOSING_WORDS:])
    if len(words) == 1 and len(body) > 4 * CLOSING_WORDS:  # no spaces: 2 characters a word
        return body[-2 * CLOSING_WORDS :]
    return None


def split_opening(text: str, max_words: int) -> tuple[str, str] | None:
    """(opening, rest) where `text` starts with a short clause ("Bom dia,", "你好，") that is
    followed by more; None otherwise. Whether the opening is a pleasantry is not judged here."""
    end = _CLAUSE_END.search(text) if max_words > 0 else None
    if end is None:
        return None
    head, rest = text[: end.start()].strip(_PUNCTUATION), text[end.end() :].lstrip(_PUNCTUATION)
    short = len(head.split()) <= max_words and len(head) <= MAX_OPENING_CHARS
    if not head or not short or not any(ch.isalnum() for ch in rest):
        return None
    return head, rest


async def decide_question(
    retriever: Retriever,
    text: str,
    language: str,
    settings: RetrievalSettings,
    context: Remembered | None = None,
    openings: int = MAX_OPENINGS,
) -> Decided:
    """Retrieve and decide: the live turn, "try a question" and the eval all come here.

    A question whose end asks for a person (`closing`: "… I've waited six months, let me talk
    to someone at the desk") calls staff: that request, after the problem, was too far from
    the exemplars on the whole text. A question refused or not answered becomes a request for
    a person; one answered with an entry keeps its answer and calls staff too (`asks_person`)
    where any of its clauses clearly asks for a person.
    A request for a person that also asks a covered question ("Queria falar com um
    funcionário. Como é que tiro o NIF?") is answered too, and calls staff
    (`_question_beside`).
    A question refused as off-topic that opens with a greeting or thanks ("Dzień dobry, jaki
    jest numer do SNS 24?": the greeting pulls it off the domain) is decided again without
    that opening (`split_opening`), and that decision stands unless it is a refusal too. Only
    refusals are reconsidered: without its greeting a question answered already may rank
    another entry first (measured, README)."""
    decided = await _decide_text(retriever, text, language, settings, context)
    d = decided.decision
    whole = openings == MAX_OPENINGS  # the citizen's own text, not a part of it
    if (
        d.kind in ("faq", "no_answer", "off_topic")
        and whole
        and await _ends_asking(retriever, text, decided, settings)
    ):
        if d.kind == "faq":  # the question is answered, and a person called too
            return _and_person(decided)
        d = Decision(PERSON, language, None, d.confidence, True)
        decided = replace(decided, decision=d)
    if d.kind == PERSON and whole:
        beside = await _question_beside(retriever, text, language, settings, context)
        return _and_person(beside) if beside is not None else decided
    refused = decided.decision.kind == "off_topic" and decided.alone.screening.injection is None
    cut = split_opening(text, settings.opening_max_words) if refused and openings > 0 else None
    if cut is not None:
        opening = await retriever.screen(cut[0])
        if opening.intent in OPENINGS and opening.intent_score >= settings.smalltalk_threshold:
            rest = await decide_question(
                retriever, cut[1], language, settings, context, openings - 1
            )
            if rest.decision.kind != "off_topic":
                return rest
    return decided


def _and_person(decided: Decided) -> Decided:
    """An answered question whose citizen asked for a person too: answered, and staff called."""
    d = decided.decision
    return replace(decided, decision=replace(d, handoff=True, asks_person=True))


def _asks(sc: Screening, settings: RetrievalSettings, *, clearly: bool = False) -> bool:
    """A text screened alone asks for a person: its nearest exemplar is a request, near enough
    or on the person model (well on it, `clearly`, where the question is answered already),
    and it is no "tell me a joke"."""
    if sc.intent != PERSON or _entertain_me(sc.domain, sc.classified, settings):
        return False
    if clearly:
        return sc.person >= settings.answered_person_margin
    return sc.intent_score >= settings.smalltalk_threshold or sc.person >= settings.person_margin


MAX_CLAUSES = 6  # a longer text is a story told to a person, not a question beside a request
_CLAUSE_MARKS = re.compile(f"(?:{_CLAUSE_END.pattern})+")  # "Olá!!" ends once


def clauses(text: str) -> list[str]:
    """`text` cut after each clause mark, each clause keeping its mark ("Como tiro o NIF?")."""
    cuts = [0, *(m.end() for m in _CLAUSE_MARKS.finditer(text)), len(text)]
    parts = (text[a:b] for a, b in zip(cuts, cuts[1:], strict=False))
    return [p for p in parts if p.strip(_PUNCTUATION)]


def is_question(clause: str) -> bool:
    """A clause that asks something: it ends with a question mark and is more than a "please?"
    (3 words, or 4 characters in a script without spaces: "税号怎么办？")."""
    words = clause.strip(_PUNCTUATION).split()
    long_enough = len(words) >= 3 or (len(words) == 1 and len(words[0]) >= 4)
    return long_enough and clause.rstrip().endswith(QUESTION_MARKS)


async def _question_beside(
    retriever: Retriever,
    text: str,
    language: str,
    settings: RetrievalSettings,
    context: Remembered | None,
) -> Decided | None:
    """A covered question asked beside a request for a person ("Queria falar com um
    funcionário. Como é que tiro o NIF?"), decided on its own: the clauses that ask for a
    person are set aside, and the rest, where one of its clauses is a question, is decided
    without them. Only an answer counts (None otherwise): a complaint told before the request
    ("my card should have come three months ago, can I talk to someone?") is no question, and
    the nearest entry would not answer it."""
    parts = clauses(text)
    if not 2 <= len(parts) <= MAX_CLAUSES:
        return None
    screenings = await retriever.screen_each([p.strip(_PUNCTUATION) for p in parts])
    kept = [p for p, sc in zip(parts, screenings, strict=True) if not _asks(sc, settings)]
    if len(kept) == len(parts) or not any(is_question(p) for p in kept):
        return None
    rest = "".join(kept).strip()  # "Bom dia, como tiro o NIF?": its greeting set aside there
    decided = await decide_question(retriever, rest, language, settings, context, MAX_OPENINGS - 1)
    return decided if decided.decision.kind == "faq" else None


def _head(clause: str) -> str | None:
    """The start of a long clause, where a request woven into a question sits ("is there
    someone here who could explain how ..."): its first CLOSING_WORDS words."""
    words = clause.split()
    if len(words) > CLOSING_WORDS:
        return " ".join(words[:CLOSING_WORDS])
    if len(words) == 1 and len(clause) > 4 * CLOSING_WORDS:
        return clause[: 2 * CLOSING_WORDS]
    return None


async def _ends_asking(
    retriever: Retriever, text: str, decided: Decided, settings: RetrievalSettings
) -> bool:
    """Whether the end of `text` (`closing`), screened alone, asks for a person (`_asks`).
    Where the question is answered already, any of its clauses, or the start of a long one,
    may be the request ("Quero falar com uma pessoa. Como renovo o título?"; "is there someone
    here who could explain how ..."), and it must ask clearly."""
    ending, whole = closing(text), decided.alone.screening
    if whole.injection is not None:
        return False
    if decided.decision.kind != "faq":
        return ending is not None and _asks(await retriever.screen(ending), settings)
    if whole.person < settings.answered_person_gate:
        return False  # nothing of a request in the whole: not worth screening its parts
    parts = [p.strip(_PUNCTUATION) for p in clauses(text)]
    if len(parts) > MAX_CLAUSES:
        parts = []
    texts = [*(parts if len(parts) >= 2 else []), *map(_head, parts), ending]
    screenings = await retriever.screen_each(list(dict.fromkeys(filter(None, texts))))
    return any(_asks(sc, settings, clearly=True) for sc in screenings)


async def _decide_text(
    retriever: Retriever,
    text: str,
    language: str,
    settings: RetrievalSettings,
    context: Remembered | None,
) -> Decided:
    alone = await retriever.search_async(text)
    joined = None
    # with the previous question only where it can change the decision: that search (a text
    # twice as long) took about as long as the transcription
    if context is not None and not decided_alone(
        decide(alone, language, settings, retriever.entries, retriever.routes),
        alone, text, context, settings,
    ):  # fmt: skip
        joined = await retriever.search_async(f"{context.question} {text}")
    # the entries are read after the searches: a publish may have swapped them meanwhile
    return decide_all(
        alone, joined, text, language, settings, retriever.entries, retriever.routes, context
    )
