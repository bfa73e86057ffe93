"""espeak-ng through its C library (libespeak-ng1), with phoneme events for lip sync.

The library keeps global state, so one `EspeakLibrary` per process serialises its calls with a
lock. Phoneme events carry IPA symbols and their audio position, which `viseme_of` maps to
the avatar's mouth shapes. `phonemize` gives IPA text (the front end of the Kokoro voices).
Where the library cannot be loaded, callers fall back to the `espeak-ng` command (audio
without visemes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
INIT_PHONEME_EVENTS = 0x0001
INIT_PHONEME_IPA = 0x0002
INIT_DONT_EXIT = 0x8000
EVENT_PHONEME = 7
EVENT_END = 5
CHARS_UTF8 = 1
ENDPAUSE = 0x1000
POS_CHARACTER = 1
PARAM_RATE = 1
PHONEMES_IPA = 0x02
PHONEMES_TIE = 0x80  # join multi-letter phonemes with the character in bits 8-23
TIE = "^"


class _EventId(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)

# IPA -> mouth shape (the web client's viseme set)
_VISEMES = (
    ("aɐɑæʌa", "A"),
    ("eɛəɜœø", "E"),
    ("iɪyjʏ", "I"),
    ("oɔɒ", "O"),
    ("uʊwɯ", "U"),
    ("mbp", "M"),
    ("fvɸβ", "F"),
    ("lnɾrtdɹɽɫŋɲ", "L"),
    ("szʃʒɕʑçxχʂʐθð", "S"),
)


def viseme_of(phoneme: str) -> str:
    for ch in phoneme:
        for letters, viseme in _VISEMES:
            if ch in letters:
                return viseme
    return "rest"


@dataclass(frozen=True, slots=True)
class EspeakResult:
    pcm: np.ndarray
    sample_rate: int
    visemes: tuple[tuple[float, str], ...]


class EspeakLibrary:
    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        self._lib = ctypes.CDLL(name)
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        )
        self._lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        self._lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        self._lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._lib.espeak_TextToPhonemes.argtypes = (
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.c_int,
        )
        self._lib.espeak_Synth.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        )
        rate = self._lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS,
            200,
            None,
            INIT_PHONEME_EVENTS | INIT_PHONEME_IPA | INIT_DONT_EXIT,
        )
        if rate <= 0:
            raise OSError("espeak-ng library failed to initialise (is espeak-ng-data installed?)")
        self.sample_rate = int(rate)
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _CALLBACK(self._on_synth)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    def _on_synth(
        self, wav: ctypes._Pointer[ctypes.c_short], n: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if n > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != 0:
            e = events[i]
            if e.type == EVENT_PHONEME:
                raw = bytes(e.id.string).split(b"\0", 1)[0]
                self._events.append((e.audio_position, raw.decode("utf-8", "replace")))
            i += 1
        return 0

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> EspeakResult:
        with self._lock:
            self._chunks, self._events = [], []
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            self._lib.espeak_SetParameter(PARAM_RATE, rate_wpm, 0)
            data = text.encode("utf-8") + b"\0"
            self._lib.espeak_Synth(
                data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE, None, None
            )
            self._lib.espeak_Synchronize()
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            visemes: list[tuple[float, str]] = []
            for ms, phoneme in self._events:
                v = viseme_of(phoneme)
                if not visemes or visemes[-1][1] != v:
                    visemes.append((round(ms / 1000, 3), v))
            visemes.append((round(len(pcm) / self.sample_rate, 3), "rest"))
            return EspeakResult(pcm.astype(np.int16), self.sample_rate, tuple(visemes))

    def phonemize(self, text: str, voice: str) -> list[str]:
        """IPA for `text`, one string per clause (espeak drops the punctuation between them).

        Stress marks are kept; multi-letter phonemes are joined by `TIE` ("t^s"), and a word
        read in another language is wrapped in flags like "(^e^n)...(^p^t)".
        """
        mode = PHONEMES_IPA | PHONEMES_TIE | (ord(TIE) << 8)
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            buf = ctypes.create_string_buffer(text.encode("utf-8"))
            ptr = ctypes.c_void_p(ctypes.addressof(buf))
            clauses: list[str] = []
            while ptr.value:
                out = self._lib.espeak_TextToPhonemes(ctypes.byref(ptr), CHARS_UTF8, mode)
                clauses.append((out or b"").decode("utf-8", "replace"))
            return clauses
