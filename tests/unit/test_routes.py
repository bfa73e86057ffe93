"""data/routes.yaml: every office in all 20 languages, each sentence keeping the office's
phone (or, without one, its link) verbatim; every uncovered-question area has an office."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml

from voice_agent.answer.routes import Routes
from voice_agent.language.languages import CODES

DATA = Path(__file__).resolve().parents[2] / "voice_agent" / "data"


def test_every_office_speaks_every_language_and_keeps_its_facts() -> None:
    routes = Routes(DATA / "routes.yaml")
    assert routes.default.area in routes.areas
    for route in routes.areas.values():
        assert set(route.say) == set(CODES), route.area
        host = urlsplit(route.link).netloc.removeprefix("www.")
        assert route.sources, route.area
        for code, sentence in route.say.items():
            assert (route.phone or host) in sentence, (route.area, code)


def test_topics_map_to_one_office_and_uncovered_areas_exist() -> None:
    routes = Routes(DATA / "routes.yaml")
    topics = [t for r in routes.areas.values() for t in r.topics]
    assert len(topics) == len(set(topics))
    uncovered = yaml.safe_load((DATA / "uncovered.yaml").read_text(encoding="utf-8"))
    assert set(uncovered) <= set(routes.areas)
    assert routes.resolve("irn", "taxes").area == "irn"
    assert routes.resolve(None, "taxes").area == "financas"
    assert routes.resolve(None, "no-such-topic") is routes.default


def test_the_lead_sentence_exists_in_every_language() -> None:
    messages = yaml.safe_load((DATA / "messages.yaml").read_text(encoding="utf-8"))
    assert set(messages["no_info"]) == set(CODES)
