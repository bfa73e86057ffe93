"""The 20 supported languages and their per-language facts (names, scripts, voices)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # ISO 639-1, also Whisper's code
    english_name: str
    native_name: str
    espeak_voice: str
    rtl: bool = False


LANGUAGES: tuple[Language, ...] = (
    Language("pt", "Portuguese", "Português", "pt"),
    Language("en", "English", "English", "en"),
    Language("es", "Spanish", "Español", "es"),
    Language("fr", "French", "Français", "fr"),
    Language("de", "German", "Deutsch", "de"),
    Language("it", "Italian", "Italiano", "it"),
    Language("ro", "Romanian", "Română", "ro"),
    Language("pl", "Polish", "Polski", "pl"),
    Language("uk", "Ukrainian", "Українська", "uk"),
    Language("ru", "Russian", "Русский", "ru"),
    Language("tr", "Turkish", "Türkçe", "tr"),
    Language("ar", "Arabic", "العربية", "ar", rtl=True),
    Language("fa", "Persian", "فارسی", "fa", rtl=True),
    Language("ur", "Urdu", "اردو", "ur", rtl=True),
    Language("hi", "Hindi", "हिन्दी", "hi"),
    Language("pa", "Punjabi", "ਪੰਜਾਬੀ", "pa"),
    Language("gu", "Gujarati", "ગુજરાતી", "gu"),
    Language("ne", "Nepali", "नेपाली", "ne"),
    Language("bn", "Bengali", "বাংলা", "bn"),
    Language("zh", "Chinese", "中文", "cmn"),
)

BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}
CODES: tuple[str, ...] = tuple(lang.code for lang in LANGUAGES)
DEFAULT_LANGUAGE = "pt"


class UnsupportedLanguage(ValueError):
    """A language code outside the supported set."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unsupported language {code!r}; supported: {', '.join(CODES)}")
        self.code = code


def base_code(code: str) -> str:
    """The language part of a tag: 'pt-BR', 'pt_PT', ' PT', 'zh-Hans' -> 'pt', 'pt', 'pt', 'zh'."""
    return code.strip().replace("_", "-").split("-")[0].lower()


def normalize_code(code: str) -> str:
    """Map 'pt-BR', 'pt_PT', 'PT', 'zh-Hans' and the like to a supported code."""
    base = base_code(code)
    if base not in BY_CODE:
        raise UnsupportedLanguage(code)
    return base
