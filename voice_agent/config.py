"""Settings: embedded defaults, overridden by an optional TOML file. Passed in, never global."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """The configuration file is unreadable or names an unknown setting."""


@dataclass(frozen=True, slots=True)
class SttSettings:
    model_dir: str = "whisper-base"  # relative to models_dir, or absolute (a CTranslate2 directory)
    compute_type: str = "int8"
    # One thread: on 2 cores, a second one made short questions no faster (whisper-base, 24
    # questions: encode 61 vs 64 ms, decode 146 vs 147 ms) and slower while the RTC stack and
    # the VAD share the CPU (decode 127 vs 180 ms over WebRTC): docs/latency.md.
    cpu_threads: int = 1
    beam_size: int = 1  # decoding is greedy (temperature 0, no fallback retries)
    # A transcript is "not understood" (the citizen is asked to repeat) when Whisper thinks
    # there is likely no speech and its decode is unsure, or its decode is very unsure.
    no_speech_threshold: float = 0.6
    min_avg_logprob: float = -1.2
    adaptive_window: bool = True  # encode only the question (+ padding), not a 30 s window
    window_padding_frames: int = 200  # 2 s of silence after the speech
    min_window_frames: int = 300
    # Remote speech-to-text (voice_agent/remote/): a Wyoming server, e.g. "tcp://gpu:10300"
    # (wyoming-faster-whisper). Empty: local only. On an error or timeout the local model
    # answers that request.
    url: str = ""
    remote_timeout_s: float = 15.0  # for the transcript (and each other reply) once connected
    connect_timeout_s: float = 2.0
    # A transcription running longer than timeout_s + timeout_per_audio_s * (seconds of audio)
    # is abandoned (workers.py) and the citizen is asked to type. Counted from when the STT
    # worker starts it, not while it waits its turn; a healthy 2-core box needs < 0.3 s/s.
    timeout_s: float = 15.0
    timeout_per_audio_s: float = 1.0


@dataclass(frozen=True, slots=True)
class LlmSettings:
    model_file: str = "llm/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    # Languages where this model's rephrasing is trusted; elsewhere the curated text is spoken.
    # The default model (0.5B) was measured unreliable in most languages: see README.
    trusted_languages: tuple[str, ...] = ()
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 160
    # Remote LLM (voice_agent/remote/): an OpenAI-compatible endpoint, e.g.
    # "http://gpu:8080/v1" (llama.cpp's server, vLLM). Empty: the local GGUF only. On an error
    # or timeout the local model answers that request.
    url: str = ""
    remote_timeout_s: float = 10.0  # for the response headers, then for each streamed chunk
    connect_timeout_s: float = 2.0
    remote_model: str = ""  # the served model's name; empty: the first of GET {url}/models
    api_key: str = ""  # sent as a bearer token when set (vLLM --api-key)
    # The rephrasing is abandoned (the curated answer is said instead) if its first token takes
    # longer than this once the LLM worker starts it, or any later token longer than the next
    # (measured at nice 19 on the loaded 2-core box: first token 11.5 s, gaps up to ~0.6 s).
    first_token_timeout_s: float = 30.0
    token_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class TtsSettings:
    voices_dir: str = "voices"  # relative to models_dir: drop Piper *.onnx + *.onnx.json here
    espeak_binary: str = "espeak-ng"
    espeak_rate_wpm: int = 160
    # language code -> voice file stem, to pick one of several installed Piper voices
    preferred_voices: dict[str, str] = field(default_factory=dict)
    # Kokoro-82M (models/kokoro/) speaks where bench/voices.py measured it better than
    # espeak-ng AND it was trained on the language (pt, es, fr, it, hi, zh; a Piper voice
    # for the language still wins). Voices it was not trained on sound foreign-accented:
    # opt in per language, e.g. accented_voices = ["de", "uk"] (de ro uk ru tr ur fa ar ne).
    accented_voices: tuple[str, ...] = ()
    espeak_only: tuple[str, ...] = ()  # languages that keep espeak-ng although Kokoro exists
    kokoro_voices: dict[str, str] = field(default_factory=dict)  # e.g. {pt = "pm_alex"}
    kokoro_speed: float = 1.0
    kokoro_threads: int = 2
    # Curated answers and system messages are synthesised ahead of time into var/reply_audio/
    # (in the background, at the lowest CPU priority); LLM rephrasings never are.
    reply_cache: bool = True
    # false: the server only reads the cache; `voice-agent voices fill` makes its audio
    reply_cache_background: bool = True
    # espeak-ng speaks a sentence in ~20 ms: storing its audio (~45 MB a language) saves nothing
    reply_cache_espeak: bool = False
    # Remote speech synthesis (voice_agent/remote/): a Wyoming server, e.g. "tcp://gpu:10200"
    # (wyoming-piper). It speaks the languages `remote_voices` names its voice for; the others,
    # and any request that fails or times out, are spoken by the local voice. Empty: local
    # only. With a URL the reply-audio cache is not used.
    url: str = ""
    remote_timeout_s: float = 10.0  # for each reply (audio chunk) once connected
    connect_timeout_s: float = 2.0
    remote_voices: dict[str, str] = field(default_factory=dict)  # e.g. {pt = "pt_PT-tugão-medium"}
    # A sentence taking longer than timeout_s + timeout_per_char_s * (characters) to
    # synthesise is abandoned and espeak-ng says it (Kokoro's worst RTF measured under load,
    # docs/voices.md: 1.65, about 0.11 s per character).
    timeout_s: float = 10.0
    timeout_per_char_s: float = 0.25


@dataclass(frozen=True, slots=True)
class VadSettings:
    start_threshold: float = 0.5
    stop_threshold: float = 0.35
    min_speech_ms: int = 200
    # While a reply plays, a likely-speech window pauses it at once; one confident 32 ms
    # window then interrupts it, or the reply resumes after `barge_in_confirm_ms` (a cough, a
    # door). The echo check in rtc/echo.py keeps our own voice from doing either.
    barge_in_pause_threshold: float = 0.5
    barge_in_min_speech_ms: int = 32
    barge_in_threshold: float = 0.8
    barge_in_confirm_ms: int = 300
    # Silence after which the turn is prepared speculatively (transcribed and decided, held
    # back). 120 ms rather than 200: the answer is then ready early enough for the early end
    # below in most turns (bench.latency, docs/latency.md: 28 of 36 turns against 17 of 36).
    pause_ms: int = 120
    end_of_turn_silence_ms: int = 600
    # The turn ends after this much silence instead when the turn prepared at the pause already
    # has a FAQ answer for a question that reads as finished (it ends with . ? ! 。 ？ ؟ ।).
    # 0: always wait end_of_turn_silence_ms.
    early_end_ms: int = 350


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    # Calibrated on tests/data/dev_questions.jsonl with `voice-agent eval --sweep` (README).
    answer_threshold: float = 0.11  # semantic entry score (no lexical bonus) below: no answer
    domain_threshold: float = -0.25  # on-topic margin of the domain model below which: refuse
    smalltalk_threshold: float = 0.9  # similarity to a greeting/thanks/... exemplar
    # A request for a person whose nearest small-talk exemplar is one, at any similarity, when
    # the person model's margin (screening.py) is at least this; the same bar tells a request
    # from a question about the assistant (README, "How answers are chosen").
    person_margin: float = 0.0
    # A question answered with an entry calls staff too only where its end is clearly a
    # request ("... how do I renew? I'd rather talk to someone"): the person model's margin on
    # the end alone at least this (dev: the requests it catches 0.32-1.86; of 540 covered
    # questions two victims asking "is anyone there to support me?" are over it; "what can I
    # do?" is below 0)
    answered_person_margin: float = 0.3
    # ... and its end is screened (one more e5 pass, ~25 ms) only where the whole question's
    # person margin is at least this (dev: covered questions p90 -0.62 to -0.76; a covered
    # question with a request for a person -0.44 to -0.03)
    answered_person_gate: float = -0.6
    # "Tell me a joke" sits as near "let me talk to a person" in e5 as real requests do. A
    # person is not asked for when the domain model is below `human_off_domain` and the
    # classifier puts the words in its off-topic class with at least `human_off_p` (README).
    human_off_domain: float = -0.6
    human_off_p: float = 0.85
    top_k: int = 5
    # "I don't know, ask there" (answer/decision.py, rule 3): a question whose nearest
    # in-domain-but-uncovered exemplar (data/uncovered.yaml) has at least `uncovered_min`, and
    # whose two nearest of one area are on average at most `uncovered_margin` below the best
    # entry's two closest questions, is not answered. Chosen on the dev sets (README).
    uncovered_min: float = 0.85
    uncovered_margin: float = 0.01
    route_topic_min: float = 0.05  # no answer: the nearest entry's topic names the office above
    # The classifier (answer/classifier.py) overrules rules 2-4 where its posterior is at least
    # this: an entry's class answers it, an uncovered area's says "ask there". Above 1: never.
    classifier_sure: float = 0.7
    # ... except against the first entry by similarity where the question repeats one of its
    # own texts (cosine at least this; 14 of the 566 dev questions come that close, and this
    # changes none of their decisions): an entry's own words are not overruled.
    classifier_own_words: float = 0.98
    # Follow-ups (answer/decision.py `followed`): a question of at most this many words is
    # read with the previous one, unless another entry answers it alone with at least
    # `followup_switch`, `followup_switch_margin` above the previous entry (a change of
    # subject); read with it, it stays on the previous entry unless another is better by more
    # than `followup_stay`.
    followup_max_words: int = 8
    followup_switch: float = 0.155
    followup_switch_margin: float = 0.02
    followup_stay: float = 0.02
    followup_switch_uncovered: float = 0.93  # nearer an uncovered topic: a change of subject
    followup_smalltalk: float = 0.93  # in a conversation, small talk needs this similarity
    # "Dzień dobry, jaki jest numer do SNS 24?" was refused as off-topic: the greeting pulled it
    # off the domain. A refused question whose opening (at most this many words before the
    # first , . ! ? or the script's own) is a greeting or thanks is decided again without it
    # (answer/decision.py); 0: never. README, "How answers are chosen".
    opening_max_words: int = 4
    timeout_s: float = 10.0  # one search (an e5 query vector + scoring) in its worker


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_text_chars: int = 2000
    max_audio_seconds: float = 30.0
    max_request_bytes: int = 1_048_576  # any HTTP request body; larger ones get 413
    max_upload_bytes: int = 5_000_000  # the content team's file import (/api/faq/import)


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    store_audio: bool = False  # keep citizens' utterances as WAV under var/audio
    audio_retention_days: int = 7
    transcript_retention_days: int = 30


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    ice_servers: tuple[str, ...] = ()  # none by default: no outbound STUN/TURN
    # Gather ICE candidates only on these addresses (e.g. the kiosk LAN's); empty: all.
    ice_host_addresses: tuple[str, ...] = ()
    # Sessions served at once; more are queued and told their position. 0: one per CPU core.
    # On 2 cores (docs/soak.md, bench.soak --knee): with the reply audio made, p95 1.3 s at 6
    # sessions and 2.7 s at 8; with replies synthesised live (a fresh box) 5.7 s already at 2.
    max_active_sessions: int = 0
    session_idle_seconds: float = 120.0
    offers_per_second: float = 2.0  # per client address
    asks_per_second: float = 1.0  # /api/ask and /api/handoff, per client address
    ask_burst: int = 10
    offer_burst: int = 10
    max_concurrent_asks: int = 4  # HTTP /api/ask turns at once
    # False: no pipelining at all, the benchmark's baseline: transcription starts only at the
    # end of the turn, and the whole reply is synthesised before any of it is sent.
    stream_replies: bool = True
    # RTP packets (20 ms) the microphone's jitter buffer holds before playing out; aiortc's
    # default is 4. A kiosk on a LAN has little jitter: 1 lets a barge-in be heard 60 ms
    # sooner (bench.voice_to_voice: barge-in stop p50 260 ms at 4... 200 ms at 1). Raise it
    # for clients on lossy networks.
    mic_jitter_prefetch: int = 1
    # glibc malloc arenas for the whole process (voice_agent/memory.py); 0: glibc's default of
    # 8 per core, which bench.soak saw hold +163 MB more every 10 minutes under load.
    malloc_arena_max: int = 2


@dataclass(frozen=True, slots=True)
class ContentSettings:
    """The content team's editor backend (voice_agent/content/)."""

    watch_files: bool = True  # re-import faq_db/entries/*.yaml edited outside the editor
    session_hours: float = 12.0  # a login lasts this long
    login_max_failures: int = 5  # per username and per client address, within the window
    login_window_seconds: float = 300.0
    min_password_chars: int = 10
    log_confidence_below: float = 0.6  # FAQ answers below this go to the unanswered inbox
    cluster_similarity: float = 0.88  # cosine to a cluster's centre needed to join it
    # Publishing needs a second person: whoever wrote a version cannot publish it. A one-person
    # team may relax this; each publish that used it says so in the audit log.
    allow_self_review: bool = False
    review_interval_days: int = 365  # `voice-agent faq report`: reviews older than this


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    """Talking to a person: when staff answer, and what the citizen is told otherwise."""

    # Staff are "on duty" only while someone is signed in to the console AND it is within these
    # hours (local time in `timezone`). Days: 0 = Monday ... 6 = Sunday.
    opening_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    opening_time: str = "09:00"
    closing_time: str = "18:00"
    timezone: str = "Europe/Lisbon"
    expire_after_s: float = 900.0  # a waiting hand-off nobody accepts expires after this
    misses_before_handoff: int = 2  # no answer this many times in a row -> offer a person
    # Said when nobody is on duty (no promise of a person). Migrant Support Line (AIMA); its
    # line serves 14 languages and others through a telephone translation service.
    helpline: str = "808 257 257"
    helpline_mobile: str = "+351 218 106 191"


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """The contact-centre console (voice_agent/console/)."""

    # A console whose websocket drops (a reload, a flaky link) keeps its accepted hand-offs this
    # long; then they go back to the queue and the citizen is told.
    reconnect_grace_s: float = 15.0
    viewer_queue: int = 256  # messages one console may fall behind before its oldest drop
    max_message_bytes: int = 4096  # one console -> server websocket message
    slow_first_audio_ms: float = 4000.0  # a turn slower than this to first audio is flagged
    low_confidence: float = 0.6  # an answer below this counts as a miss for the flags
    audit_retention_days: int = 365  # who viewed / sent what (no citizen text in it)
    # Bearer token a Prometheus scraper sends to GET /metrics; empty: a supervisor or admin
    # login is needed (as for every other console route).
    metrics_token: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    root: Path = field(default_factory=Path.cwd)
    models_dir: Path = Path("models")
    var_dir: Path = Path("var")
    faq_dir: Path = Path("faq_db")
    default_language: str = "pt"
    # Where the content (versions, accounts, inbox) and the console's records live: "" is the
    # SQLite file in var_dir; "postgresql://user:pass@host/db" is PostgreSQL (the environment
    # variable VOICE_AGENT_DATABASE_URL, if set, wins). The FAQ search index stays a local
    # SQLite file in var_dir either way: it is rebuilt from the published content.
    database_url: str = ""
    stt: SttSettings = field(default_factory=SttSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    content: ContentSettings = field(default_factory=ContentSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    def path(self, p: Path | str) -> Path:
        """Resolve a setting path against the project root."""
        p = Path(p)
        return p if p.is_absolute() else self.root / p

    @property
    def models_path(self) -> Path:
        return self.path(self.models_dir)

    @property
    def db_path(self) -> Path:
        return self.path(self.var_dir) / "voice_agent.sqlite3"

    @property
    def database(self) -> Path | str:
        """The content and console database: a PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.db_path

    def model_path(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else self.models_path / q


def _merge(obj: Any, data: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"unknown setting {where}{key!r}; known: {', '.join(known)}")
        current = getattr(obj, key)
        if is_dataclass(current) and not isinstance(current, type):
            if not isinstance(value, dict):
                raise ConfigError(f"setting {where}{key!r} must be a table")
            changes[key] = _merge(current, value, f"{where}{key}.")
        elif isinstance(current, Path):
            changes[key] = Path(value)
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        else:
            changes[key] = value
    return replace(obj, **changes)


def _looks_like_home(d: Path) -> bool:
    return (
        (d / "voice-agent.toml").is_file()
        or (d / "models" / "manifest.json").is_file()
        or (d / "faq_db" / "entries").is_dir()
    )


def find_home(explicit: Path | None = None) -> Path:
    """The folder that holds models/, faq_db/, var/ and voice-agent.toml. In order: the one
    given (`--home`), $VOICE_AGENT_HOME, the current folder if it is one, else the checkout
    `make` installed into (the folder above this package), else the current folder."""
    env = os.environ.get("VOICE_AGENT_HOME") or os.environ.get("VOICE_AGENT_ROOT")
    if explicit is not None or env:
        home = Path(explicit or env or ".").expanduser().resolve()
        if not home.is_dir():
            raise ConfigError(f"the home folder {home} does not exist")
        return home
    cwd = Path.cwd().resolve()
    if _looks_like_home(cwd):
        return cwd
    installed = Path(__file__).resolve().parents[1]
    return installed if _looks_like_home(installed) else cwd


def load_settings(config_file: Path | None = None, root: Path | None = None) -> Settings:
    """Embedded defaults, then `voice-agent.toml` in the home folder (or the given file)."""
    root = root.resolve() if root is not None else find_home()
    settings = Settings(root=root)
    path = config_file or Path(os.environ.get("VOICE_AGENT_CONFIG", root / "voice-agent.toml"))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        settings = _merge(settings, data, "")
    elif config_file is not None:
        raise ConfigError(f"config file not found: {config_file}")
    url = os.environ.get("VOICE_AGENT_DATABASE_URL")
    if url:
        settings = replace(settings, database_url=url)
    if settings.database_url and not settings.database_url.startswith(
        ("postgresql://", "postgres://")
    ):
        raise ConfigError("database_url must be empty (SQLite) or start with postgresql://")
    return settings
