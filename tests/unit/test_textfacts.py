from __future__ import annotations

import pytest

from voice_agent.language.textfacts import Facts, extract_facts, find_fact_spans, to_ascii_digits

PT_SNS = (
    "Ligue para a linha SNS 24 pelo 808 24 24 24. Funciona 24 horas por dia e um "
    "profissional de saúde aconselha o que fazer. Em caso de emergência, ligue 112."
)


# --- phones -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Ligue 808 24 24 24.", "808242424"),
        ("Segurança Social: 300 502 502", "300502502"),
        ("Linha 808 257 257 (dias úteis)", "808257257"),
        ("Centro de contacto: 218 106 191", "218106191"),
        ("Call 808-24-24-24 now", "808242424"),
        ("Call 808242424 now", "808242424"),
        ("Ligue\u00a0808\u00a024\u00a024\u00a024", "808242424"),
        ("Em caso de emergência, ligue 112.", "112"),
        ("Linha de apoio à vítima: 116 006", "116006"),
        ("Emergência social: 144", "144"),
        ("SOS Floresta 117", "117"),
        ("Linha 115", "115"),
    ],
)
def test_phone_numbers_are_normalised_to_digits(text: str, phone: str) -> None:
    facts = extract_facts(text)
    assert phone in facts.phones
    assert phone not in facts.numbers


def test_portuguese_country_code_is_dropped_foreign_ones_kept() -> None:
    facts = extract_facts("+351 21 000 0000, 00351 218 106 191, +351218106191, +44 20 7946 0000")
    assert facts.phones == {"210000000", "218106191", "442079460000"}
    assert facts.numbers == frozenset()


def test_short_group_runs_are_not_phones() -> None:
    facts = extract_facts("Tem 90 dias, até 30 de junho de 2025, das 9 às 17 horas.")
    assert facts.phones == frozenset()
    assert facts.numbers == {"90", "30", "2025", "9", "17"}


def test_unknown_three_digit_numbers_are_not_phones() -> None:
    assert extract_facts("Custa 150 euros").phones == frozenset()


def test_phone_groups_are_kept_on_the_span() -> None:
    (span,) = find_fact_spans("+351 808 24 24 24")
    assert span.kind == "phone"
    assert span.parts == ("+351", "808", "24", "24", "24")
    assert span.value == "808242424"


# --- other scripts' digits ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "اتصل بخط SNS على الرقم ٨٠٨ ٢٤ ٢٤ ٢٤ في أي وقت.",  # Arabic-Indic
        "با شماره ۸۰۸ ۲۴ ۲۴ ۲۴ تماس بگیرید (SNS).",  # Persian
        "SNS लाइन पर ८०८ २४ २४ २४ पर कॉल करें।",  # Devanagari
        "SNS লাইনে ৮০৮ ২৪ ২৪ ২৪ নম্বরে কল করুন।",  # Bengali
        "SNS ਲਾਈਨ ਨੂੰ ੮੦੮ ੨੪ ੨੪ ੨੪ 'ਤੇ ਕਾਲ ਕਰੋ।",  # Gurmukhi
        "SNS લાઇનને ૮૦૮ ૨૪ ૨૪ ૨૪ પર કૉલ કરો.",  # Gujarati
    ],
)
def test_non_ascii_digits_count_as_the_same_phone(text: str) -> None:
    facts = extract_facts(text)
    assert facts.phones == {"808242424"}
    assert facts.acronyms == {"SNS"}


def test_to_ascii_digits_keeps_length_and_other_text() -> None:
    text = "رقم ١١٢ و ۱۱۲ और ११२"
    converted = to_ascii_digits(text)
    assert converted == "رقم 112 و 112 और 112"
    assert len(converted) == len(text)


def test_superscripts_and_chinese_numerals_are_not_digits() -> None:
    assert to_ascii_digits("m² 二十四") == "m² 二十四"


# --- numbers ---------------------------------------------------------------------


def test_numbers_exclude_digits_of_phones_and_urls() -> None:
    facts = extract_facts(PT_SNS + " Veja sns24.gov.pt.")
    assert facts.numbers == {"24"}
    assert facts.phones == {"808242424", "112"}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("O apoio é de 1.500,50 euros.", "150050"),
        ("The grant is €1,500.50.", "150050"),
        ("Montant : 1 500 €", "1500"),
        ("Montant : 1\u202f500 €", "1500"),
        ("Prazo de 90 dias", "90"),
        ("até 30 de junho", "30"),
        ("no dia 06", "6"),
    ],
)
def test_numbers_are_digits_only(text: str, number: str) -> None:
    assert extract_facts(text).numbers == {number}


def test_numbers_in_chinese_text_without_spaces() -> None:
    facts = extract_facts("请在6月30日之前提交IRS申报。")
    assert facts.numbers == {"6", "30"}
    assert facts.acronyms == {"IRS"}


# --- acronyms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "acronyms"),
    [
        ("Peça o NIF e o NISS nas Finanças.", {"NIF", "NISS"}),
        ("Ligue para o SNS24 ou vá ao centro de saúde.", {"SNS24"}),
        ("Citizens of the EU (UE in Portuguese) can work.", {"EU", "UE"}),
        ("يجب أن يكون لديك NIF قبل تقديم IRS.", {"NIF", "IRS"}),
        ("आपको AIMA से NIF लेना होगा।", {"AIMA", "NIF"}),
        ("你需要NIF和NISS。", {"NIF", "NISS"}),
    ],
)
def test_acronyms(text: str, acronyms: set[str]) -> None:
    assert extract_facts(text).acronyms == acronyms


@pytest.mark.parametrize(
    "text",
    ["ATENÇÃO ao prazo", "Nif ou nif", "A pessoa", "formulário B2", "Ó senhor"],
)
def test_not_acronyms(text: str) -> None:
    assert extract_facts(text).acronyms == frozenset()


def test_acronym_with_digits_after_hyphen_splits_number() -> None:
    facts = extract_facts("COVID-19")
    assert facts.acronyms == {"COVID"}
    assert facts.numbers == {"19"}


# --- URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Entre em autenticacao.gov.pt.", "autenticacao.gov.pt"),
        ("Veja https://www.seg-social.pt/ para mais.", "seg-social.pt"),
        ("Use o Portal das Finanças (portaldasfinancas.gov.pt).", "portaldasfinancas.gov.pt"),
        ("Visit www.ePortugal.gov.pt, then log in.", "eportugal.gov.pt"),
        ("See HTTPS://europa.eu/youreurope!", "europa.eu/youreurope"),
        ("Details: https://example.org/a/b?x=1.", "example.org/a/b?x=1"),
        ("زوروا الموقع eportugal.gov.pt للمزيد.", "eportugal.gov.pt"),
        ("请访问eportugal.gov.pt。", "eportugal.gov.pt"),
        ("वेबसाइट sns24.gov.pt देखें।", "sns24.gov.pt"),
        ("Escreva para geral@aima.gov.pt.", "geral@aima.gov.pt"),
    ],
)
def test_urls_are_normalised(text: str, url: str) -> None:
    facts = extract_facts(text)
    assert facts.urls == {url}
    assert facts.numbers == frozenset()
    assert facts.acronyms == frozenset()


@pytest.mark.parametrize(
    "text", ["e.g. isto", "n.º 5", "custa 1.5 euros", "etc. e tal", "Sr. Silva"]
)
def test_not_urls(text: str) -> None:
    assert extract_facts(text).urls == frozenset()


def test_url_span_excludes_sentence_punctuation() -> None:
    text = "Veja https://www.sns24.gov.pt/."
    (span,) = find_fact_spans(text)
    assert text[span.start : span.end] == "https://www.sns24.gov.pt/"


# --- Facts -----------------------------------------------------------------------


def test_pt_and_en_answers_share_their_facts() -> None:
    en = (
        "Call the SNS 24 line on 808 24 24 24. It works 24 hours a day, and a health "
        "professional tells you what to do. In an emergency, call 112."
    )
    assert extract_facts(PT_SNS) == extract_facts(en)
    assert extract_facts(PT_SNS).missing_from(extract_facts(en)).is_empty()


def test_missing_from_reports_invented_facts() -> None:
    source = extract_facts(PT_SNS)
    candidate = extract_facts("Ligue 808 24 24 25 ou veja sns.gov.pt; o NIF custa 10 euros.")
    invented = candidate.missing_from(source)
    assert invented == Facts(
        phones=frozenset({"808242425"}),
        numbers=frozenset({"10"}),
        acronyms=frozenset({"NIF"}),
        urls=frozenset({"sns.gov.pt"}),
    )
    assert invented.all() == {"808242425", "10", "NIF", "sns.gov.pt"}
    assert not invented.is_empty()


def test_arabic_translation_keeps_the_pt_facts() -> None:
    ar = "اتصل بخط SNS 24 على الرقم ٨٠٨ ٢٤ ٢٤ ٢٤. يعمل ٢٤ ساعة. في حالات الطوارئ اتصل بالرقم 112."
    assert extract_facts(PT_SNS).missing_from(extract_facts(ar)).is_empty()


def test_hindi_translation_missing_a_phone_is_caught() -> None:
    hi = "SNS 24 लाइन पर ८०८ २४ २४ २४ पर कॉल करें। यह 24 घंटे काम करती है।"
    missing = extract_facts(PT_SNS).missing_from(extract_facts(hi))
    assert missing.all() == {"112"}


def test_empty_facts() -> None:
    facts = extract_facts("Olá, como posso ajudar?")
    assert facts.is_empty()
    assert facts.all() == frozenset()
    assert Facts().is_empty()
