"""Multilingual cues of prompt injection and of requests to generate unrelated content.

Patterns live in data/injection_cues.yaml, per language plus `any`; every language's patterns
are tried on every question (citizens mix languages), on the lower-cased text and on a copy
without accents ("esqueca as instrucoes"). Patterns need an object (instructions, rules, the
FAQ, a role, a poem, code...), never a lone verb: "esqueci-me da senha" is a real question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True, slots=True)
class CueMatch:
    language: str
    pattern: str
    span: str


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


class InjectionCues:
    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self._patterns: list[tuple[str, str, re.Pattern[str]]] = []
        for lang, patterns in data.items():
            for p in patterns or []:
                try:
                    self._patterns.append((str(lang), str(p), re.compile(str(p), re.IGNORECASE)))
                except re.error as exc:
                    raise ValueError(f"{path}: bad pattern for {lang}: {p!r} ({exc})") from exc

    def __len__(self) -> int:
        return len(self._patterns)

    def match(self, text: str) -> CueMatch | None:
        lowered = " ".join(text.lower().split())
        variants = (lowered, strip_accents(lowered))
        for lang, source, pattern in self._patterns:
            for v in variants:
                m = pattern.search(v)
                if m:
                    return CueMatch(lang, source, m.group(0))
        return None
