"""The one decision function: guarded entry lookup, "I don't know" with an office, follow-ups.

Fakes only (bag-of-words vectors, a real SQLite store); the real-model figures are in
tests/models/test_decisions_real.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import fake_engine
from voice_agent import events as ev
from voice_agent.answer.classifier import OFF_TOPIC, UNCOVERED, Classified
from voice_agent.answer.decision import (
    Context,
    Decision,
    decide,
    decide_all,
    decide_question,
    decided_alone,
    is_short,
)
from voice_agent.answer.retrieval import Hit, RetrievalResult
from voice_agent.answer.routes import Routes
from voice_agent.answer.screening import EMBEDDING_DIM, Screening
from voice_agent.config import RetrievalSettings
from voice_agent.content.faq import FaqEntry, load_entries, parse_entry
from voice_agent.conversation.ask import ask
from voice_agent.conversation.engine import Session, TurnInput, default_screener

NIF = """
id: nif
topic: taxes
sources: [https://www.portaldasfinancas.gov.pt]
languages:
  en:
    status: machine-translated
    question: How do I get a NIF tax number?
    paraphrases: [nif tax number, where do i get a taxpayer number, tax number for foreigners]
    answer: Ask for the NIF at a Finanças office. See portaldasfinancas.gov.pt.
  pt:
    status: reviewed
    question: Como peço o NIF?
    paraphrases: [numero de contribuinte, tirar nif, nif para estrangeiros]
    answer: Peça o NIF num Serviço de Finanças. Veja portaldasfinancas.gov.pt.
"""

SNS = """
id: sns24-line
topic: health
sources: [https://www.sns24.gov.pt]
languages:
  en:
    status: machine-translated
    question: What is the SNS 24 health line number?
    paraphrases: [sns 24 phone number, who do i call when sick, health line]
    answer: Call the SNS 24 line on 808 24 24 24.
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    d = tmp_path / "faq"
    (d / "entries").mkdir(parents=True)
    (d / "entries" / "nif.yaml").write_text(NIF, encoding="utf-8")
    (d / "entries" / "sns24-line.yaml").write_text(SNS, encoding="utf-8")
    return d


def hit(entry_id: str, score: float, question: float = 0.9) -> Hit:
    return Hit(entry_id, score, question, "text", "en", None)


ON_TOPIC = Screening(None, 1.0, None, 0.0)


def test_an_entry_gone_from_the_published_set_is_skipped_not_a_keyerror() -> None:
    settings = RetrievalSettings()
    result = RetrievalResult((hit("gone", 0.5), hit("nif", 0.3)), ON_TOPIC)
    nif = parse_entry(__import__("yaml").safe_load(NIF), "test")
    decision = decide(result, "en", settings, {"nif": nif})
    assert decision.kind == "faq" and decision.faq_id == "nif"
    alone = decide(RetrievalResult((hit("gone", 0.5),), ON_TOPIC), "en", settings, {})
    assert alone.kind == "no_answer" and alone.entry is None


KNOWN = frozenset({"nif", "sns24-line", UNCOVERED + "irn", OFF_TOPIC})
ROUTES = Path(__file__).resolve().parents[2] / "voice_agent" / "data" / "routes.yaml"


def _classified(label: str, p: float, known: frozenset[str] = KNOWN) -> Screening:
    return Screening(None, 1.0, None, 0.0, classified=Classified(label, p, known))


def _entries() -> dict[str, FaqEntry]:
    return {
        "nif": parse_entry(__import__("yaml").safe_load(NIF), "test"),
        "sns24-line": parse_entry(__import__("yaml").safe_load(SNS), "test"),
    }


def _decide(
    hits: tuple[Hit, ...], screening: Screening, entries: dict[str, FaqEntry] | None = None
) -> Decision:
    return decide(
        RetrievalResult(hits, screening), "en", RetrievalSettings(),
        _entries() if entries is None else entries, Routes(ROUTES),
    )  # fmt: skip


def test_a_sure_classifier_answers_an_entry_the_similarity_left_below_the_bar() -> None:
    below = (hit("sns24-line", 0.09), hit("nif", 0.08))  # under answer_threshold (0.11)
    rescued = _decide(below, _classified("nif", 0.8))
    assert rescued.kind == "faq" and rescued.faq_id == "nif"
    assert rescued.confidence < 0.5  # its own score's: the inbox still sees a weak answer
    assert _decide(below, _classified("nif", 0.6)).kind == "no_answer"
    unpublished = {"sns24-line": _entries()["sns24-line"]}  # nif unpublished meanwhile
    assert _decide(below, _classified("nif", 0.8), unpublished).kind == "no_answer"
    assert _decide(below, _classified(OFF_TOPIC, 0.99)).kind == "no_answer"


def test_a_sure_classifier_chooses_between_entries_the_similarity_ranked_otherwise() -> None:
    ranked = (hit("nif", 0.2), hit("sns24-line", 0.15))
    chosen = _decide(ranked, _classified("sns24-line", 0.9))
    assert chosen.faq_id == "sns24-line"
    first = _decide((hit("sns24-line", 0.15),), ON_TOPIC)
    assert chosen.confidence == first.confidence  # its own score's, as if it had ranked first
    assert _decide(ranked, _classified("sns24-line", 0.6)).faq_id == "nif"


def test_a_sure_uncovered_class_says_i_dont_know_and_names_its_office() -> None:
    above = (hit("nif", 0.2),)
    vetoed = _decide(above, _classified(UNCOVERED + "irn", 0.9))
    assert vetoed.kind == "no_answer" and vetoed.route is not None and vetoed.route.area == "irn"
    for screening in (_classified(UNCOVERED + "irn", 0.5), _classified(OFF_TOPIC, 0.9)):
        assert _decide(above, screening).faq_id == "nif"


def test_the_classifier_keeps_out_of_entries_it_has_too_few_texts_of() -> None:
    """A new entry written in one language: the similarity decides, for and against it."""
    ranked = (hit("sns24-line", 0.2), hit("nif", 0.15))  # sns24-line: new, 4 texts
    thin = KNOWN - {"sns24-line"}
    assert _decide(ranked, _classified("nif", 0.95, thin)).faq_id == "sns24-line"
    assert _decide(ranked, _classified(UNCOVERED + "irn", 0.95, thin)).faq_id == "sns24-line"
    below = (hit("nif", 0.08),)
    assert _decide(below, _classified("sns24-line", 0.95, thin)).kind == "no_answer"


def test_the_classifier_never_overrules_an_entry_whose_own_words_were_asked() -> None:
    verbatim = (hit("sns24-line", 0.2, question=0.99), hit("nif", 0.15))
    assert _decide(verbatim, _classified("nif", 0.95)).faq_id == "sns24-line"
    reworded = (hit("sns24-line", 0.2, question=0.95), hit("nif", 0.15))
    assert _decide(reworded, _classified("nif", 0.95)).faq_id == "nif"


async def test_unpublished_between_search_and_decision_in_a_live_turn(
    tmp_path: Path, faq_dir: Path
) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    search = engine.retriever.search_async
    remaining = [e for e in load_entries(faq_dir) if e.id != "nif"]

    async def search_then_unpublish(text: str) -> RetrievalResult:
        result = await search(text)  # ranks "nif" first ...
        await engine.publish(remaining)  # ... which a reviewer deletes right now
        return result

    engine.retriever.search_async = search_then_unpublish  # type: ignore[method-assign]
    out = await ask(engine, TurnInput(text="How do I get a NIF tax number?"))
    assert out.result["faq_id"] is None and out.result["handoff"] is True
    engine.close()


async def test_no_answer_names_an_office_and_reaches_the_bus(tmp_path: Path, faq_dir: Path) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    queue = engine.bus.subscribe()
    out = await ask(engine, TurnInput(text="Where can I renew my fishing licence quickly?"))
    assert out.result["faq_id"] is None and out.result["handoff"] is True
    assert out.result["answer"].startswith("I don't have verified information on that.")
    assert "808 257 257" in out.result["answer"]  # nothing near: the migrant helpline
    assert out.result["link"] == "https://eportugal.gov.pt"
    msg = queue.get_nowait()
    assert msg["type"] == "decision" and msg["kind"] == "no_answer" and msg["area"] == "geral"
    engine.close()


async def test_an_uncovered_exemplar_names_its_office(tmp_path: Path, faq_dir: Path) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    # word for word an exemplar of data/uncovered.yaml (area: irn): bag-of-words finds it
    decided = await decide_question(
        engine.retriever, "how do I get a divorce in Portugal", "en", engine.settings.retrieval
    )
    assert decided.decision.kind == "no_answer"
    route = decided.decision.route
    assert route is not None and route.area == "irn" and decided.decision.link == route.link
    engine.close()


async def test_a_short_follow_up_is_decided_in_context(tmp_path: Path, faq_dir: Path) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    session = Session()
    first = await ask(engine, TurnInput(text="How do I get a NIF tax number?"), session)
    assert first.result["faq_id"] == "nif" and first.result["context_from"] is None
    second = await ask(engine, TurnInput(text="and where is that?"), session)
    assert second.result["faq_id"] == "nif"
    assert second.result["context_from"] == "nif"
    engine.close()


async def test_a_change_of_subject_is_not_dragged_back(tmp_path: Path, faq_dir: Path) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    session = Session()
    await ask(engine, TurnInput(text="How do I get a NIF tax number?"), session)
    events = [e async for e in engine.turn(TurnInput(text="What is the SNS 24 number?"), session)]
    started = next(e for e in events if isinstance(e, ev.ReplyStarted))
    assert started.faq_id == "sns24-line" and started.context_from is None
    engine.close()


def test_follow_up_rules_on_stored_results() -> None:
    settings = RetrievalSettings()
    nif = parse_entry(__import__("yaml").safe_load(NIF), "test")
    entries = {"nif": nif}
    context = Context("nif", "taxes", "How do I get a NIF?", "en")
    weak = RetrievalResult((hit("nif", 0.05),), ON_TOPIC)
    strong = RetrievalResult((hit("nif", 0.4),), ON_TOPIC)
    alone = decide(weak, "en", settings, entries)
    assert alone.kind == "no_answer" and decide(strong, "en", settings, entries).kind == "faq"

    def decided(result: RetrievalResult, text: str) -> Decision:
        return decide_all(result, strong, text, "en", settings, entries, None, context).decision

    chosen = decided(weak, "and where?")
    assert chosen.faq_id == "nif" and chosen.context_from == "nif"
    long = "and where do I have to go with all my papers and my passport and my children?"
    assert decided(weak, long) == alone
    assert decided_alone(alone, weak, long, context, settings)
    assert not decided_alone(alone, weak, "and where?", context, settings)
    injection = RetrievalResult((hit("nif", 0.05),), Screening("ignore", 1.0, None, 0.0))
    assert decided(injection, "and where?") == decide(injection, "en", settings, entries)


async def test_the_previous_question_is_searched_only_where_it_can_change_the_decision(
    tmp_path: Path, faq_dir: Path
) -> None:
    """A change of subject is decided alone: the second search (the two questions together,
    as slow as a transcription) is not made; a short follow-up still gets it."""
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    settings = RetrievalSettings()
    context = Context("nif", "taxes", "How do I get a NIF tax number?", "en")
    switch = await decide_question(
        engine.retriever, "What is the SNS 24 number?", "en", settings, context
    )
    assert switch.decision.faq_id == "sns24-line" and switch.joined is None
    follow = await decide_question(engine.retriever, "and where is that?", "en", settings, context)
    assert follow.decision.faq_id == "nif" and follow.joined is not None
    engine.close()


def test_short_is_words_or_characters() -> None:
    assert is_short("and where?", 8) and not is_short(
        "one two three four five six seven eight nine", 8
    )
    assert is_short("在哪里办？", 8) and not is_short(
        "我想知道在葡萄牙怎么给我的孩子办理所有的手续", 8
    )


async def test_the_reply_carries_the_answer_status(tmp_path: Path, faq_dir: Path) -> None:
    engine = fake_engine(tmp_path, faq_dir)
    await engine.load_faq()
    en = await ask(engine, TurnInput(text="How do I get a NIF tax number?", language="en"))
    pt = await ask(engine, TurnInput(text="Como peço o NIF?", language="pt"))
    assert en.result["status"] == "machine-translated" and pt.result["status"] == "reviewed"
    engine.close()


def _asks_for_a_person(domain: float, label: str, p: float) -> Screening:
    return Screening(None, domain, "human", 0.93, classified=Classified(label, p, KNOWN))


def test_tell_me_a_joke_is_refused_not_handed_to_staff() -> None:
    near = (hit("nif", 0.05, question=0.88),)
    joke = _decide(near, _asks_for_a_person(-1.1, OFF_TOPIC, 0.95))
    assert joke.kind == "off_topic" and not joke.handoff
    # a real request keeps its hand-off, even where one of the two signals says off-topic
    for domain, label, p in ((-0.4, OFF_TOPIC, 0.95), (-1.1, OFF_TOPIC, 0.75), (-1.1, "nif", 0.9)):
        person = _decide(near, _asks_for_a_person(domain, label, p))
        assert person.kind == "human" and person.handoff, (domain, label, p)
    # and the other small talk is not touched by it
    bye = Screening(None, -1.1, "goodbye", 0.93, classified=Classified(OFF_TOPIC, 0.95, KNOWN))
    assert _decide(near, bye).kind == "goodbye"


def _nearly(intent: str, person: float) -> Screening:
    """Small talk whose nearest exemplar is not near enough (0.88 < 0.9), in the domain."""
    c = Classified("nif", 0.3, KNOWN)
    return Screening(None, 0.5, intent, 0.88, classified=c, person=person)


def test_the_person_model_recognises_a_request_the_exemplars_were_not_near_enough_for() -> None:
    near = (hit("nif", 0.14, question=0.89),)  # an entry above the bar, nearer than the exemplar
    asks = _decide(near, _nearly("human", 0.3))
    assert asks.kind == "human" and asks.handoff and asks.entry is None
    # below the person model's margin the question is left to the other rules
    assert _decide(near, _nearly("human", -0.2)).kind == "faq"
    # "are you a real person?" sits high on the person model too; its nearest exemplar says
    # it asks what the assistant is, and that is not a request for staff
    assert _decide(near, _nearly("identity", 0.9)).kind == "faq"
    said = Screening(None, -1.1, "identity", 0.95, classified=Classified(OFF_TOPIC, 0.9, KNOWN))
    what = _decide(near, said)
    assert what.kind == "identity" and not what.handoff
    # and "tell me a joke" is refused however high its person margin
    joke = Screening(None, -1.1, "human", 0.88, classified=Classified(OFF_TOPIC, 0.95, KNOWN))
    assert _decide(near, replace(joke, person=0.6)).kind == "off_topic"


def test_a_request_worded_like_a_question_about_the_assistant_is_still_a_request() -> None:
    near = (hit("nif", 0.05, question=0.85),)

    def me(not_me: float) -> Screening:
        c = Classified(OFF_TOPIC, 0.6, KNOWN)
        return Screening(None, -0.2, "identity", 0.93, classified=c, person=0.5, not_me=not_me)

    # "can I talk to a real person?": nearest to "are you a real person?", but a request
    asks = _decide(near, me(0.4))
    assert asks.kind == "human" and asks.handoff
    # "are you a real person?" itself
    what = _decide(near, me(-0.9))
    assert what.kind == "identity" and not what.handoff


def test_a_question_is_never_a_goodbye_or_thanks() -> None:
    """ "weather tomorrow?" sits near "see you tomorrow" in e5: small talk that ends with a
    question mark is a greeting ("how are you?") or not small talk at all."""
    near = (hit("nif", 0.05, question=0.85),)
    off = Classified(OFF_TOPIC, 0.9, KNOWN)
    for intent in ("goodbye", "thanks"):
        said = Screening(None, -1.0, intent, 0.95, classified=off)
        assert _decide(near, said).kind == intent
        assert _decide(near, replace(said, asked=True)).kind == "off_topic"
    hello = Screening(None, -1.0, "greeting", 0.95, classified=off, asked=True)
    assert _decide(near, hello).kind == "greeting"


def test_the_screener_notes_a_question_mark_in_any_script() -> None:
    screener = default_screener()  # nothing fitted: only the cues and the text are read
    vector = np.zeros(EMBEDDING_DIM, np.float32)
    for text in ("weather tomorrow?", "明天天气怎么样？", "هل ستمطر غدا؟", 'he said "tomorrow?"'):
        assert screener.screen(text, vector).asked, text
    assert not screener.screen("see you tomorrow!", vector).asked


def test_everyday_off_topic_questions_teach_the_domain_model_not_the_classifier(
    tmp_path: Path,
) -> None:
    """The classifier's shared covariance moves every entry when texts are added; the short
    everyday questions ("que horas são?") only teach the domain model (README)."""
    from voice_agent.answer.screening import Screener
    from voice_agent.conversation.engine import DATA

    negatives = tmp_path / "negatives.yaml"
    negatives.write_text(
        'everyday: ["que horas são?", "what day is it"]\noff_topic: ["tell me a joke"]\n',
        encoding="utf-8",
    )
    talk, cues = DATA / "smalltalk.yaml", DATA / "injection_cues.yaml"
    screener = Screener(negatives, talk, cues, DATA / "uncovered.yaml", DATA / "routes.yaml")
    texts, classified, _talk, _uncovered = screener._exemplars()
    assert texts == ["tell me a joke", "que horas são?", "what day is it"] and classified == 1
