"""FTS words stay whole in scripts with combining marks (vowel signs, viramas)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from voice_agent.content.faq import FTS_TOKENIZE, FaqStore, _fts_tokens


def test_query_words_keep_vowel_signs() -> None:
    assert _fts_tokens("मेरा नंबर कैसे मिलेगा?") == ["मेरा", "नंबर", "कैसे", "मिलेगा"]
    assert _fts_tokens("ਪੰਜਾਬੀ ਵਿੱਚ NIF") == ["ਪੰਜਾਬੀ", "ਵਿੱਚ", "nif"]
    assert _fts_tokens("আমার নম্বর") == ["আমার", "নম্বর"]
    assert _fts_tokens("Número de contribuinte") == ["número", "de", "contribuinte"]


def test_old_tokenizer_index_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "faq.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE texts (id INTEGER PRIMARY KEY, entry_id TEXT NOT NULL, lang TEXT NOT NULL,"
        " kind TEXT NOT NULL, text TEXT NOT NULL);"
        "CREATE VIRTUAL TABLE texts_fts USING fts5(text, content='texts', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2');"
        "INSERT INTO texts VALUES (1, 'nif', 'hi', 'question', 'टैक्स नंबर कहाँ से मिलेगा');"
        "INSERT INTO texts_fts(rowid, text) VALUES (1, 'टैक्स नंबर कहाँ से मिलेगा');"
    )
    db.commit()
    db.close()
    store = FaqStore(path)
    try:
        sql = store.db.execute("SELECT sql FROM sqlite_master WHERE name='texts_fts'").fetchone()
        assert FTS_TOKENIZE in sql[0]
        assert [e for e, _ in store.fts_search("मेरा टैक्स नंबर")] == ["nif"]
        assert store.fts_search("बर") == []  # a fragment of a word no longer matches
    finally:
        store.close()


def test_function_words_are_left_out_of_the_lexical_search(tmp_path: Path) -> None:
    """A word in more than a tenth of one language's texts ("how") finds nothing by itself: a
    question sharing only such words with an entry must not make that entry the lexical best."""
    store = FaqStore(tmp_path / "faq.sqlite3")
    texts = [f"how do I get topic{i}" for i in range(8)] + ["child benefit", "doctor visit"]
    try:
        with store.db:
            for i, text in enumerate(texts, start=1):
                store.db.execute(
                    "INSERT INTO texts VALUES (?, ?, 'en', 'question', ?)", (i, f"e{i}", text)
                )
                store.db.execute("INSERT INTO texts_fts(rowid, text) VALUES (?, ?)", (i, text))
        assert store.fts_search("how do I get it") == []
        assert [e for e, _ in store.fts_search("how do I get child benefit")] == ["e9"]
        assert [e for e, _ in store.fts_search("topic3")] == ["e4"]  # a rare word still counts
    finally:
        store.close()


def test_order_and_ties_do_not_depend_on_the_edit_history(tmp_path: Path) -> None:
    """Two entries whose texts tie: re-storing one of them (an edit, then its undo) gives its
    texts new row ids, and neither the text order the vectors are built in nor the lexical
    ranking may follow them (the dev sets' results moved with the database's history)."""
    from dataclasses import replace

    from voice_agent.content.faq import FaqEntry, LocalizedText

    def entry(entry_id: str, question: str) -> FaqEntry:
        text = LocalizedText(question, (), "Ask at the office.", "draft")
        return FaqEntry(entry_id, "topic", "team", (), {"en": text})

    alpha, beta = entry("alpha", "parking permit card"), entry("beta", "parking permit card")
    store = FaqStore(tmp_path / "faq.sqlite3")
    try:
        store.replace_all([beta, alpha])
        order = [e for _, e, _, _ in store.texts()]
        ranked = store.fts_search("parking permit")
        edited = replace(alpha, languages={"en": replace(alpha.languages["en"], answer="x")})
        store.replace_all([beta, edited])
        store.replace_all([beta, alpha])  # alpha's rows now come after beta's
        assert [e for _, e, _, _ in store.texts()] == order == ["alpha", "beta"]
        assert store.fts_search("parking permit") == ranked
        assert [e for e, _ in ranked] == ["alpha", "beta"]
    finally:
        store.close()
