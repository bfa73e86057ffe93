"""The held-out sets stay held out: no training line may paraphrase a held-out question.

Training lines are the "I don't know" exemplars (voice_agent/data/uncovered.yaml) and the FAQ
questions and paraphrases (faq_db/entries). The test suite holds every exemplar below e5 cosine
0.95 to every held-out line (tests/models/test_decisions_real.py). FAQ paraphrases of the same
topic are naturally close to covered held-out questions, so for them the guard is for new
lines only: run by hand while writing content,

    python -m tests.models.heldout_guard [--since REF] [--limit 0.97]

lists each line added since REF (default HEAD: the uncommitted ones) that is too close to a
held-out question, without printing the held-out question, so the writer stays blind to it.
Exit 1 if any.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
UNCOVERED = ROOT / "voice_agent" / "data" / "uncovered.yaml"
ENTRIES = ROOT / "faq_db" / "entries"

Embed = Callable[[Sequence[str]], np.ndarray]
Read = Callable[[Path], str | None]


def held_out_texts() -> list[str]:
    texts = []
    for name in ("heldout_covered", "heldout_uncovered", "followups"):
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            texts += [d[k] for k in ("text", "first", "second") if k in d]
    return texts


def _now(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def exemplars(read: Read = _now) -> list[str]:
    text = read(UNCOVERED)
    return [t for lines in (yaml.safe_load(text) or {}).values() for t in lines] if text else []


def faq_lines(read: Read = _now) -> list[str]:
    texts: list[str] = []
    for path in sorted(ENTRIES.glob("*.yaml")):
        text = read(path)
        if not text:
            continue
        for lang in yaml.safe_load(text)["languages"].values():
            texts += [lang["question"], *(lang.get("paraphrases") or [])]
    return texts


def at(ref: str) -> Read:
    def read(path: Path) -> str | None:
        rel = path.relative_to(ROOT).as_posix()
        out = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, capture_output=True,
                             text=True, check=False)  # fmt: skip
        return out.stdout if out.returncode == 0 else None

    return read


def closest(embed: Embed, lines: Sequence[str], held: np.ndarray) -> np.ndarray:
    """Each line's highest cosine to any held-out line (`held`: their embeddings)."""
    if not lines:
        return np.zeros(0, np.float32)
    return (embed(lines) @ held.T).max(axis=1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", default="HEAD", help="check lines added since this git ref")
    parser.add_argument("--limit", type=float, default=0.97, help="cosine limit for FAQ lines")
    args = parser.parse_args(argv)

    from voice_agent.answer.retrieval import E5Embedder
    from voice_agent.config import load_settings

    before = at(args.since)
    new_ex = sorted(set(exemplars()) - set(exemplars(before)))
    new_faq = sorted(set(faq_lines()) - set(faq_lines(before)))
    embedder = E5Embedder(load_settings(root=ROOT).models_path / "embeddings" / "e5-small-q4.bin")
    held = embedder.embed(held_out_texts())  # once, for both kinds of line
    bad = 0
    for kind, lines, limit in (("exemplar", new_ex, 0.95), ("FAQ line", new_faq, args.limit)):
        for line, sim in zip(lines, closest(embedder.embed, lines, held), strict=True):
            if sim >= limit:
                bad += 1
                print(f"{sim:.3f}  {kind} too close to a held-out question: {line!r}")
        print(f"{len(lines)} new {kind}s checked (limit {limit})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
