from __future__ import annotations

import pytest

from voice_agent.language.languages import CODES, UnsupportedLanguage
from voice_agent.speech_out.normalize import (
    DOT_WORD,
    SPOKEN_AS_WORDS,
    speak_phone,
    speakable,
    spell_acronym,
    split_sentences,
)

# --- phones ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("808 24 24 24", "8 0 8, 24, 24, 24"),
        ("808242424", "8 0 8, 24, 24, 24"),
        ("707 200 200", "7 0 7, 200, 200"),
        ("218 106 191", "218, 106, 191"),
        ("218106191", "218, 106, 191"),
        ("112", "112"),
        ("116 006", "116, 0 0 6"),
        ("+351 21 000 0000", "+ 3 5 1, 21, 0 0 0, 0 0 0 0"),
        ("+351218106191", "+ 3 5 1, 218, 106, 191"),
        ("00351 808 24 24 24", "0 0 3 5 1, 8 0 8, 24, 24, 24"),
        ("+44 20 7946 0000", "+ 4 4, 20, 7946, 0 0 0 0"),
        ("+442079460000", "+ 4 4 2 0 7 9 4 6 0 0 0 0"),
    ],
)
def test_phone_grouping(text: str, spoken: str) -> None:
    assert speakable(text, "pt") == spoken


def test_phone_in_portuguese_sentence() -> None:
    assert speakable("Ligue 808 24 24 24 ou, em emergência, 112.", "pt") == (
        "Ligue 8 0 8, 24, 24, 24 ou, em emergência, 112."
    )


def test_phone_with_arabic_digits_in_arabic_sentence() -> None:
    assert speakable("اتصل على الرقم ٨٠٨ ٢٤ ٢٤ ٢٤ الآن.", "ar") == (
        "اتصل على الرقم 8 0 8, 24, 24, 24 الآن."
    )


def test_phone_with_devanagari_digits_in_hindi_sentence() -> None:
    assert speakable("कृपया ८०८ २४ २४ २४ पर कॉल करें।", "hi") == ("कृपया 8 0 8, 24, 24, 24 पर कॉल करें।")


def test_phone_inside_chinese_text_without_spaces() -> None:
    assert speakable("请拨打808 24 24 24或112。", "zh") == "请拨打8 0 8, 24, 24, 24或112。"


def test_plain_numbers_are_left_for_the_engine() -> None:
    assert speakable("Funciona 24 horas, há 90 dias e custa 1.500 euros.", "pt") == (
        "Funciona 24 horas, há 90 dias e custa 1.500 euros."
    )
    assert speakable("يعمل ٢٤ ساعة", "ar") == "يعمل 24 ساعة"


def test_speak_phone_directly() -> None:
    assert speak_phone(("808", "257", "257")) == "8 0 8, 257, 257"


# --- acronyms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "spoken"),
    [
        ("Peça o NIF.", "pt", "Peça o N I F."),
        ("Ligue para o SNS 24.", "pt", "Ligue para o S N S 24."),
        ("Ligue para o SNS24.", "pt", "Ligue para o S N S 24."),
        ("Entregue o IRS.", "pt", "Entregue o I R S."),
        ("Contacte a ACT ou a AIMA.", "pt", "Contacte a á C T ou a AIMA."),
        ("Cidadãos da UE.", "pt", "Cidadãos da U é."),
        ("Get your NIF first.", "en", "Get your N I F first."),
        ("EU citizens", "en", "E U citizens"),
        ("احصل على NIF من AIMA.", "ar", "احصل على N I F من AIMA."),
        ("आपको NIF चाहिए।", "hi", "आपको N I F चाहिए।"),
        ("你需要NIF和NISS。", "zh", "你需要N I F和NISS。"),
    ],
)
def test_acronyms(text: str, lang: str, spoken: str) -> None:
    assert speakable(text, lang) == spoken


@pytest.mark.parametrize("word", sorted(SPOKEN_AS_WORDS))
def test_spoken_as_words_stay_words(word: str) -> None:
    assert spell_acronym(word, "pt") == word


@pytest.mark.parametrize("acronym", ["ACT", "PLA", "NIF", "IRS", "SNS"])
def test_spelled_acronyms_are_not_in_the_word_list(acronym: str) -> None:
    assert acronym not in SPOKEN_AS_WORDS


def test_portuguese_vowel_letter_names() -> None:
    # espeak-ng pt reads a lone "E" as the conjunction and "A"/"O" as articles.
    assert spell_acronym("APAE", "pt") == "á P á é"
    assert spell_acronym("OE", "pt-PT") == "ó é"
    assert spell_acronym("OE", "es") == "O E"


# --- URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "spoken"),
    [
        ("Entre em autenticacao.gov.pt.", "pt", "Entre em autenticacao ponto gov ponto pt."),
        ("Veja https://www.seg-social.pt/.", "pt", "Veja seg social ponto pt."),
        ("Visit www.eportugal.gov.pt today.", "en", "Visit eportugal dot gov dot pt today."),
        ("Visite portaldasfinancas.gov.pt", "es", "Visite portaldasfinancas punto gov punto pt"),
        ("Siehe sns24.gov.pt", "de", "Siehe sns24 Punkt gov Punkt pt"),
        ("زوروا eportugal.gov.pt", "ar", "زوروا eportugal نقطة gov نقطة pt"),
        ("देखें eportugal.gov.pt।", "hi", "देखें eportugal डॉट gov डॉट pt।"),
        ("请访问eportugal.gov.pt。", "zh", "请访问eportugal 点 gov 点 pt。"),
        ("See https://europa.eu/youreurope/", "en", "See europa dot eu youreurope"),
        ("Escreva para geral@aima.gov.pt.", "pt", "Escreva para geral @ aima ponto gov ponto pt."),
    ],
)
def test_urls(text: str, lang: str, spoken: str) -> None:
    assert speakable(text, lang) == spoken


def test_every_language_has_a_dot_word() -> None:
    assert set(DOT_WORD) == set(CODES)


def test_acronym_and_digits_inside_a_url_are_not_respelled() -> None:
    assert speakable("SNS24.gov.pt", "pt") == "SNS24 ponto gov ponto pt"


# --- general -----------------------------------------------------------------------


def test_whitespace_is_collapsed() -> None:
    assert speakable("  Olá,\n\n  bem-vindo\t ao  balcão. ", "pt") == "Olá, bem-vindo ao balcão."


def test_language_codes_are_normalised_and_checked() -> None:
    assert speakable("NIF", "pt-PT") == "N I F"
    with pytest.raises(UnsupportedLanguage):
        speakable("NIF", "xx")


def test_full_answer_in_portuguese() -> None:
    text = (
        "Ligue para a linha SNS 24 pelo 808 24 24 24 ou veja www.sns24.gov.pt. "
        "Em caso de emergência, ligue 112."
    )
    assert speakable(text, "pt") == (
        "Ligue para a linha S N S 24 pelo 8 0 8, 24, 24, 24 ou veja sns24 ponto gov "
        "ponto pt. Em caso de emergência, ligue 112."
    )


# --- sentences ---------------------------------------------------------------------


def test_split_basic_latin() -> None:
    assert split_sentences("Olá! Como posso ajudar? Ligue 112. Obrigado…") == [
        "Olá!",
        "Como posso ajudar?",
        "Ligue 112.",
        "Obrigado…",
    ]


def test_split_keeps_text_without_final_punctuation() -> None:
    assert split_sentences("Primeiro. Depois sem ponto") == ["Primeiro.", "Depois sem ponto"]


def test_split_never_inside_domains_or_decimals() -> None:
    text = "Entre em autenticacao.gov.pt e use 1.5 GB. Depois confirme."
    assert split_sentences(text) == [
        "Entre em autenticacao.gov.pt e use 1.5 GB.",
        "Depois confirme.",
    ]


def test_split_at_domain_followed_by_period() -> None:
    assert split_sentences("Veja seg-social.pt. Ou ligue.") == ["Veja seg-social.pt.", "Ou ligue."]


@pytest.mark.parametrize(
    "text",
    [
        "Fale com o Sr. Silva no balcão.",
        "A Dr. Costa atende às 9h.",
        "Preencha o campo n.º 5 do formulário.",
        "Bring an ID, e.g. your passport.",
        "Traga documentos (NIF, NISS, etc.) e a morada.",
        "Traga o NIF, o NISS, etc. e a morada.",
        "Call Dr. Smith.",
    ],
)
def test_abbreviations_do_not_split(text: str) -> None:
    assert split_sentences(text) == [text]


def test_etc_before_capital_ends_a_sentence() -> None:
    assert split_sentences("Traga o NIF, o NISS, etc. Depois ligue.") == [
        "Traga o NIF, o NISS, etc.",
        "Depois ligue.",
    ]


def test_split_keeps_closing_quotes() -> None:
    assert split_sentences('Diga "sim." Depois espere.') == ['Diga "sim."', "Depois espere."]


def test_split_chinese_without_spaces() -> None:
    assert split_sentences("请拨打808 24 24 24。访问eportugal.gov.pt！还有问题吗？好") == [
        "请拨打808 24 24 24。",
        "访问eportugal.gov.pt！",
        "还有问题吗？",
        "好",
    ]


def test_split_hindi_danda() -> None:
    assert split_sentences("कृपया ८०८ २४ २४ २४ पर कॉल करें।आपातकाल में 112 पर कॉल करें। धन्यवाद") == [
        "कृपया ८०८ २४ २४ २४ पर कॉल करें।",
        "आपातकाल में 112 पर कॉल करें।",
        "धन्यवाद",
    ]


def test_split_arabic_question_mark_and_urdu_full_stop() -> None:
    assert split_sentences("هل لديك NIF؟ اتصل بالرقم 112.") == ["هل لديك NIF؟", "اتصل بالرقم 112."]
    assert split_sentences("براہ کرم 112 پر کال کریں۔شکریہ۔") == [
        "براہ کرم 112 پر کال کریں۔",
        "شکریہ۔",
    ]


def test_split_drops_empty_pieces_and_uses_paragraphs() -> None:
    assert split_sentences("  \n ") == []
    assert split_sentences("Passos:\n\nPeça o NIF\n\n  Ligue 112.  ") == [
        "Passos:",
        "Peça o NIF",
        "Ligue 112.",
    ]


def test_split_multiple_marks_stay_together() -> None:
    assert split_sentences("A sério?! Sim... Ok.") == ["A sério?!", "Sim...", "Ok."]
