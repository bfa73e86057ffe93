"""Redaction of personal data in every language and script the product supports.

Each case is a sentence a citizen could say or type, in its own script and digits, holding the
Portuguese identifiers (NIF, NISS, SNS user number, residence card, passport), a phone number,
an e-mail address and an IBAN. After redaction no run of 6 or more digits (in any script), no
'@' and no identifier is left, and the FAQ's public numbers (808 24 24 24) are kept.
"""

from __future__ import annotations

import re

import pytest

from voice_agent.content.redact import Redactor
from voice_agent.language.languages import CODES
from voice_agent.language.textfacts import to_ascii_digits

PUBLIC = frozenset({"808242424", "808257257", "112"})


def native(digits: str, zero: str) -> str:
    """ASCII digits written with the digits of a script (`zero` is that script's 0)."""
    return "".join(chr(ord(zero) + int(d)) if d.isdigit() else d for d in digits)


AR, FA, DEV, BN, GU, PA, FULL = "٠", "۰", "०", "০", "૦", "੦", "０"

# language -> sentences; each must lose every secret it holds
CASES: dict[str, list[str]] = {
    "pt": [
        "O meu NIF é 245 678 901 e o NISS 12345678901.",
        "Número de utente do SNS 123456789, telemóvel +351 912 345 678.",
        "Título de residência n.º AB1234567, passaporte CA123456, email maria.silva@gmail.com",
        "IBAN PT50 0002 0123 1234 5678 9015 4 — liguei para o 808 24 24 24",
        "o meu email é maria ponto silva arroba gmail ponto com",
    ],
    "en": [
        "My tax number is 245678901 and my phone 00351912345678",
        "write to john.smith@example.org, passport number X1234567",
        "my email is john at example dot com",
    ],
    "es": ["Mi NIE es Y1234567X y mi teléfono 912-345-678"],
    "fr": ["Mon numéro de sécurité sociale est 1 85 05 78 006 084 36, mail a.b@free.fr"],
    "de": ["Meine Steuernummer 245/678/901, IBAN DE89 3704 0044 0532 0130 00"],
    "it": ["Il mio codice fiscale RSSMRA85T10A562S e cellulare 333 123 4567"],
    "ro": ["CNP-ul meu este 1850101123456, telefon 0721 123 456"],
    "pl": ["Mój PESEL to 85010112345, e-mail jan.kowalski@wp.pl"],
    "uk": ["Мій паспорт АБ123456, телефон +380 67 123 45 67, пошта ivan@ukr.net"],
    "ru": ["Мой номер 8 (912) 345-67-89, паспорт 45 06 123456, почта ivan@mail.ru"],
    "tr": ["TC kimlik numaram 12345678901, telefon 0532 123 45 67"],
    "ar": [
        "رقم هاتفي " + native("912345678", AR) + " ورقم الضريبة " + native("245678901", AR),
        "بريدي ahmed@gmail.com وجواز السفر P1234567",
    ],
    "fa": ["شماره من " + native("912345678", FA) + " و کد ملی " + native("0012345678", FA)],
    "ur": ["میرا نمبر " + native("03001234567", FA) + " ہے"],
    "hi": ["मेरा फ़ोन नंबर " + native("9876543210", DEV) + " है और NIF 245678901"],
    "ne": ["मेरो नम्बर " + native("9812345678", DEV) + " हो"],
    "bn": ["আমার ফোন নম্বর " + native("01712345678", BN)],
    "gu": ["મારો નંબર " + native("9876543210", GU) + " છે"],
    "pa": ["ਮੇਰਾ ਨੰਬਰ " + native("9876543210", PA) + " ਹੈ"],
    "zh": [
        "我的税号是245678901，电话是" + native("13812345678", FULL),
        "我的护照号码是E12345678，邮箱是wang@qq.com",
        "我的电话是一三八一二三四五六七八",
    ],
}

SECRETS = re.compile(r"\d(?:[ \u00a0\-./()]{0,2}\d){5,}")
ID_LIKE = re.compile(r"[A-Za-zА-Яа-яЁёІіЇїЄє]+\d{5,}|\d{5,}[A-Za-z]")


def test_every_supported_language_has_cases() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("lang", sorted(CASES))
def test_nothing_personal_is_left(lang: str) -> None:
    r = Redactor(PUBLIC)
    for text in CASES[lang]:
        out = r.redact(text)
        ascii_out = to_ascii_digits(out).replace("808 24 24 24", "")
        assert not SECRETS.search(ascii_out), (text, out)
        assert not ID_LIKE.search(ascii_out), (text, out)
        assert "@" not in out and "arroba" not in out and " at example" not in out, (text, out)
        assert not re.search("[一二三四五六七八九]{6,}", out), (text, out)
        assert "[" in out, (text, out)


def test_public_numbers_and_ordinary_words_stay() -> None:
    r = Redactor(PUBLIC)
    kept = [
        "liguei para o 808 24 24 24 e para o 112",
        "a linha SNS 24 em 2025",
        "preciso do NIF e do NISS para trabalhar",
        "我想办理税号",
        "أريد رقم الضريبة",
        "look at the map",
    ]
    for text in kept:
        assert r.redact(text) == text


def test_placeholders_say_what_was_removed() -> None:
    r = Redactor(PUBLIC)
    assert r.redact("NIF 245678901") == "NIF [number]"
    assert r.redact("mail ana@sapo.pt") == "mail [email]"
    assert r.redact("IBAN PT50 0002 0123 1234 5678 9015 4") == "IBAN [id]"
    assert r.redact("passaporte CA123456") == "passaporte [id]"
    assert r.redact("税号245678901") == "税号[number]"
