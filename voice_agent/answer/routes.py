"""Where to ask when the FAQ has no verified answer: one office per area (data/routes.yaml).

An area is chosen by the decision (answer/decision.py): the area of the nearest in-domain
question the FAQ does not cover, else the area of the nearest entry's topic, else the
default (the migrant helpline). Each area has its official link (and phone, where sourced)
and the sentence that names it, in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True, slots=True)
class Route:
    area: str
    office: str
    link: str
    phone: str | None = None
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    say: dict[str, str] = field(default_factory=dict)

    def sentence(self, lang: str) -> str:
        return self.say.get(lang) or self.say["en"]


class Routes:
    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.areas: dict[str, Route] = {
            str(area): Route(
                area=str(area),
                office=str(d["office"]),
                link=str(d["link"]),
                phone=str(d["phone"]) if d.get("phone") else None,
                topics=tuple(str(t) for t in d.get("topics") or ()),
                sources=tuple(str(s) for s in d.get("sources") or ()),
                say={str(k): str(v) for k, v in (d.get("say") or {}).items()},
            )
            for area, d in (data.get("areas") or {}).items()
        }
        self.default = self.areas[str(data["default"])]
        self._by_topic = {t: r for r in self.areas.values() for t in r.topics}

    def resolve(self, area: str | None, topic: str | None) -> Route:
        """The area's office, else the topic's, else the default."""
        if area is not None and area in self.areas:
            return self.areas[area]
        if topic is not None and topic in self._by_topic:
            return self._by_topic[topic]
        return self.default
