"""The entry classifier (answer/classifier.py): what a shared covariance buys over cosine."""

from __future__ import annotations

import numpy as np
import pytest

from voice_agent.answer.classifier import (
    MIN_TEXTS,
    NOTHING,
    OFF_TOPIC,
    UNCOVERED,
    Classified,
    Classifier,
)


def _samples(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    """Two entries that differ a little along one direction; the "language" and the wording
    move every question a lot along the others (as a script moves e5 vectors)."""
    rows, labels = [], []
    for label, side in (("nif", 1.0), ("niss", -1.0)):
        for _ in range(n):
            x = np.concatenate([[1.0, 0.15 * side], rng.normal(0, 0.3, 6)])
            x[1] += rng.normal(0, 0.03)
            rows.append(x)
            labels.append(label)
    x = np.array(rows)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def test_it_separates_entries_that_a_language_shift_makes_look_alike() -> None:
    rng = np.random.default_rng(3)
    train, train_labels = _samples(rng, 60)
    test, test_labels = _samples(rng, 100)
    model = Classifier(train, train_labels)
    got = [model.classify(q) for q in test]
    right = sum(c.label == want for c, want in zip(got, test_labels, strict=True))
    # nearest training question by cosine, for comparison: the language shift misleads it
    nearest = [train_labels[int(np.argmax(train @ q))] for q in test]
    cosine_right = sum(a == b for a, b in zip(nearest, test_labels, strict=True))
    assert right >= 0.9 * len(test)
    assert right >= cosine_right + 0.1 * len(test)
    assert all(c.p > 0.5 for c in got)  # two classes: the top one has more than half
    assert np.isclose(model.posteriors(test[0]).sum(), 1.0)


def test_a_class_label_says_what_it_is() -> None:
    assert Classified("nif", 0.9).entry_id == "nif" and Classified("nif", 0.9).area is None
    area = Classified(UNCOVERED + "financas", 0.8)
    assert area.area == "financas" and area.entry_id is None
    assert Classified(OFF_TOPIC, 0.8).entry_id is None and Classified(OFF_TOPIC, 0.8).area is None
    assert NOTHING.entry_id is None and NOTHING.area is None and NOTHING.p == 0.0


def test_classes_with_too_few_texts_are_not_known() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(MIN_TEXTS + 3, 4))
    labels = ["nif"] * MIN_TEXTS + ["new-entry"] * 3
    got = Classifier(vectors, labels).classify(vectors[0])
    assert got.known == frozenset({"nif"})


def test_vectors_and_labels_must_match() -> None:
    with pytest.raises(ValueError, match="3 vectors but 2 labels"):
        Classifier(np.eye(3), ["a", "b"])
