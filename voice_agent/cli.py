"""Command line: serve, ask, say, transcribe, models, faq, users, privacy (the last two in
cli_admin.py). Errors are messages, not tracebacks."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from voice_agent.cli_admin import cmd_privacy, cmd_users
from voice_agent.config import ConfigError, Settings, find_home, load_settings
from voice_agent.errors import BadInput, ModelMissing, ServiceError
from voice_agent.language.languages import BY_CODE, CODES, UnsupportedLanguage, normalize_code
from voice_agent.memory import limit_malloc_arenas
from voice_agent.speech_in.audio import decode_audio, write_wav


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="voice-agent", description=__doc__)
    p.add_argument(
        "--home",
        type=Path,
        help="folder with models/, faq_db/, var/ (default: $VOICE_AGENT_HOME, the current "
        "folder if it holds them, else where `make` installed them)",
    )
    p.add_argument(
        "--config", type=Path, help="TOML settings file (default: HOME/voice-agent.toml)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP service")
    s.add_argument("--host")
    s.add_argument("--port", type=int)

    a = sub.add_parser("ask", help="ask a question by text, audio or a JSONL batch")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--text")
    src.add_argument("--audio", type=Path)
    src.add_argument(
        "--batch", type=Path, help='JSONL: {"text"|"audio", "lang"?} per line (not spoken)'
    )
    a.add_argument("--lang", help=f"language code ({', '.join(CODES)})")
    a.add_argument("--out", type=Path, help="write the spoken reply to this WAV file")
    a.add_argument("--json", action="store_true", help="print the result object as JSON")

    y = sub.add_parser("say", help="speak text to a WAV file")
    y.add_argument("--lang", required=True)
    y.add_argument("text")
    y.add_argument("-o", "--out", type=Path, required=True)

    t = sub.add_parser("transcribe", help="speech to text")
    t.add_argument("audio", type=Path)
    t.add_argument("--lang")
    t.add_argument("--json", action="store_true")

    m = sub.add_parser("models", help="install or list models")
    m.add_argument("action", choices=["install", "list"])

    v = sub.add_parser("voices", help="reply audio made ahead of time")
    v.add_argument("action", choices=["fill"], help="make the missing reply audio now")
    v.add_argument("--lang", nargs="+", help="only these languages (default: all 20)")
    v.add_argument(
        "--entry",
        nargs="*",
        help="only these FAQ entries (and system messages); --entry alone: system messages only",
    )

    e = sub.add_parser("eval", help="evaluate decisions on JSONL question sets")
    e.add_argument("file", type=Path, nargs="+", help="covered, uncovered, off-topic, two-turn")
    e.add_argument("--out", type=Path, help="markdown report (default: var/eval-report.md)")
    e.add_argument("--sweep", action="store_true", help="also show accuracy per threshold")

    lm = sub.add_parser("llm", help="the answer LLM: in which languages it may rephrase")
    lact = lm.add_subparsers(dest="action", required=True)
    lc = lact.add_parser(
        "calibrate", help="measure grounding per language on the dev set; write the trusted ones"
    )
    lc.add_argument("--dev", type=Path, default=Path("tests/data/dev_questions.jsonl"))
    lc.add_argument("--per-language", type=int, help="at most this many questions a language")
    lc.add_argument("--min-grounded", type=float, default=0.9)
    lc.add_argument("--max-fallback", type=float, default=0.1)
    lc.add_argument("--min-kept", type=float, default=0.9, help="right entries kept (ratio)")
    lc.add_argument("--min-answers", type=int, default=5)
    lc.add_argument("--out", type=Path, help="default: var/llm-calibration.json (read at start)")

    f = sub.add_parser("faq", help="FAQ content")
    f.add_argument("action", choices=["load", "validate", "report"])

    u = sub.add_parser("users", help="accounts of the content editor")
    uact = u.add_subparsers(dest="action", required=True)
    ua = uact.add_parser("add", help="create an account")
    ua.add_argument("name")
    ua.add_argument(
        "--role", choices=["editor", "reviewer", "admin", "staff", "supervisor"], default="editor"
    )
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    up = uact.add_parser("passwd", help="set an account's password (ends its sessions)")
    up.add_argument("name")
    up.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    uact.add_parser("list", help="list the accounts")
    for action, what in (("disable", "disable an account"), ("enable", "enable an account")):
        uact.add_parser(action, help=what).add_argument("name")

    pv = sub.add_parser("privacy", help="retention purge; one conversation's data (access request)")
    pact = pv.add_subparsers(dest="action", required=True)
    pact.add_parser("purge", help="delete what is older than the retention periods, now")
    pe = pact.add_parser("export", help="everything kept about one conversation, as JSON")
    pe.add_argument("session")
    return p


def _lang(code: str | None) -> str | None:
    return normalize_code(code) if code else None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config, find_home(args.home))
        limit_malloc_arenas(settings.server.malloc_arena_max)  # before any worker thread
        handler = COMMANDS[args.command]
        return handler(settings, args)
    except (ServiceError, ConfigError, UnsupportedLanguage) as exc:
        print(f"voice-agent: error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a traceback
        if os.environ.get("VOICE_AGENT_DEBUG"):
            raise
        print(
            f"voice-agent: internal error: {exc.__class__.__name__}: {exc} "
            "(set VOICE_AGENT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


def _run(coro_fn: Callable[[], Awaitable[int]]) -> int:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


# --- commands -----------------------------------------------------------------------------
def check_models(settings: Settings) -> None:
    """Before serving: every installed model file is there, whole (else the one-line fix)."""
    from voice_agent import models

    installed = models.read_manifest(settings.models_path)
    if not installed:
        raise ModelMissing(
            f"no models installed in {settings.models_path} (home: {settings.root}); "
            f"{models.FIX}, or point --home / VOICE_AGENT_HOME at the folder that has them"
        )
    for e in installed:
        models.check_file(settings.models_path / e.file, e.size, what=e.kind)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.transports.server import serve

    check_models(settings)
    serve(settings, host=args.host or settings.server.host, port=args.port or settings.server.port)
    return 0


def _print_result(result: dict[str, Any], as_json: bool, out: TextIO = sys.stdout) -> None:
    if as_json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    lang = result["language"]
    out.write(f"[{lang} {BY_CODE[lang].english_name}] " if lang in BY_CODE else "")
    if result["transcript"]:
        out.write(f"Q: {result['transcript']}\n")
    out.write(f"A: {result['answer']}\n")
    extra = f"faq={result['faq_id']} confidence={result['confidence']:.3f}"
    extra += f" handoff={result['handoff']} voice={result['tts']}"
    out.write(f"   ({extra})\n")
    if result.get("link"):
        out.write(f"   source: {result['link']}\n")
    for w in result.get("warnings", []):
        out.write(f"   note: {w}\n")


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.conversation.ask import ask
    from voice_agent.conversation.engine import Engine, TurnInput

    lang = _lang(args.lang)
    limits = settings.limits

    async def one(
        engine: Engine, text: str | None, audio: Path | None, lang: str | None, out: Path | None
    ) -> dict[str, Any]:
        decoded = decode_audio(audio, max_seconds=limits.max_audio_seconds) if audio else None
        spoken = args.batch is None  # a batch is not spoken: its lines carry no WAV to write
        inp = TurnInput(text=text, audio=decoded, language=lang)
        outcome = await ask(engine, inp, want_audio=spoken)
        if out is not None:
            write_wav(out, outcome.pcm, outcome.sample_rate)
        return outcome.result

    async def run() -> int:
        if args.text is not None:
            from voice_agent.conversation.engine import validate_text

            validate_text(args.text, limits.max_text_chars)  # fail before loading models
        if args.audio is not None:
            decode_audio(args.audio, max_seconds=limits.max_audio_seconds)
        engine = Engine.create(settings)
        try:
            await engine.load_faq()
            if args.batch is None:
                result = await one(engine, args.text, args.audio, lang, args.out)
                for w in result["warnings"]:
                    print(f"voice-agent: note: {w}", file=sys.stderr)
                _print_result(result, args.json)
                return 0
            return await _batch(engine, args.batch, lang, one)
        finally:
            engine.close()

    return _run(run)


async def _batch(
    engine: Any, path: Path, default_lang: str | None, one: Callable[..., Awaitable[dict[str, Any]]]
) -> int:
    try:
        lines = (await asyncio.to_thread(path.read_text, encoding="utf-8")).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read batch file {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or ("text" in item) == ("audio" in item):
                raise BadInput('each line needs exactly one of "text" or "audio"')
            lang = _lang(item.get("lang")) or default_lang
            audio = Path(item["audio"]) if "audio" in item else None
            if audio is not None and not audio.is_absolute():
                audio = path.parent / audio
            text = item.get("text")
            if text is not None and not isinstance(text, str):
                raise BadInput('"text" must be a string')
            result = await one(engine, text, audio, lang, None)
            result["line"] = n
        except json.JSONDecodeError as exc:
            result = {"line": n, "error": {"code": "bad_input", "message": f"not JSON: {exc}"}}
        except (ServiceError, UnsupportedLanguage) as exc:
            code = getattr(exc, "code", "bad_input")
            result = {
                "line": n,
                "error": {"code": code, "message": getattr(exc, "message", str(exc))},
            }
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def cmd_say(settings: Settings, args: argparse.Namespace) -> int:
    import numpy as np

    from voice_agent.conversation.engine import validate_text
    from voice_agent.speech_out.normalize import split_sentences
    from voice_agent.speech_out.voices import VoiceRegistry

    lang = normalize_code(args.lang)
    text = validate_text(args.text, settings.limits.max_text_chars)

    async def run() -> int:
        voices = VoiceRegistry(settings)
        try:
            synth = await voices.for_language(lang)
            parts = [await voices.synthesize(synth, s, lang) for s in split_sentences(text)]
        finally:
            voices.close()
        rate = parts[0].sample_rate if parts else 22050
        write_wav(
            args.out,
            np.concatenate([p.pcm for p in parts]) if parts else np.zeros(0, np.int16),
            rate,
        )
        print(f"wrote {args.out} ({synth.name})")
        return 0

    return _run(run)


def cmd_transcribe(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.speech_in.stt import WhisperStt

    lang = _lang(args.lang)
    decoded = decode_audio(args.audio, max_seconds=settings.limits.max_audio_seconds)

    async def run() -> int:
        stt = WhisperStt(
            settings.model_path(settings.stt.model_dir), settings.stt, settings.models_path
        )
        try:
            tr = await stt.transcribe(decoded.samples, language=lang)
        finally:
            stt.close()
        if args.json:
            print(
                json.dumps(
                    {
                        "text": tr.text,
                        "language": tr.language,
                        "probability": round(tr.probability, 4),
                        "seconds": round(decoded.seconds, 2),
                        "truncated": decoded.truncated,
                        "timings_ms": {k: round(v, 1) for k, v in tr.timings_ms.items()},
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"[{tr.language} {tr.probability:.2f}] {tr.text}")
        return 0

    return _run(run)


def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent import models

    if args.action == "install":
        settings.models_path.mkdir(parents=True, exist_ok=True)
        models.install(settings.models_path)
        return 0
    from voice_agent.answer.calibrate import trusted_languages
    from voice_agent.speech_out.voice_plan import voice_file_note
    from voice_agent.speech_out.voices import VoiceRegistry

    installed = models.read_manifest(settings.models_path)
    voices = VoiceRegistry(replace(settings, tts=replace(settings.tts, reply_cache=False)))
    stt_dir = settings.model_path(settings.stt.model_dir)
    llm = settings.model_path(settings.llm.model_file)
    trusted = trusted_languages(settings)  # by hand, else measured (`voice-agent llm calibrate`)
    rephraser = f"openai:{settings.llm.url}" if settings.llm.url else llm.stem
    hearing = f"faster-whisper:{stt_dir.name}"
    if settings.stt.url:
        hearing = f"wyoming:{settings.stt.url}"
    remote_voice = settings.tts.remote_voices if settings.tts.url else {}
    print(f"models folder: {settings.models_path}")
    if not installed:
        print(f"  no models installed here (home: {settings.root}); {models.FIX}")
    for e in sorted(installed, key=lambda e: (e.kind, e.name)):
        present = (settings.models_path / e.file).exists()
        print(f"  {e.kind:<11} {e.name:<36} {'ok' if present else 'MISSING'}  ({e.licence})")
    print(f"\n{'lang':<5} {'language':<12} {'speech-to-text':<28} {'voice':<32} answer mode")
    for code in CODES:
        can = settings.llm.url or llm.exists()
        mode = f"rephrase ({rephraser})" if code in trusted and can else "curated"
        voice = f"wyoming:{remote_voice[code]}" if code in remote_voice else voices.describe(code)
        print(f"{code:<5} {BY_CODE[code].english_name:<12} {hearing:<28} {voice:<32} {mode}")
        if note := voice_file_note(settings, voices.describe(code)):
            print(f"      {note}: espeak-ng speaks instead; {models.FIX}")
    voices.close()
    return 0


def cmd_voices(settings: Settings, args: argparse.Namespace) -> int:
    """Fill the reply-audio cache now (at normal priority, every Kokoro thread), e.g. before a
    kiosk opens or a benchmark; the server fills the same cache slowly in the background."""
    from voice_agent.content.faq import load_entries
    from voice_agent.speech_out.prefill import Prefill
    from voice_agent.speech_out.reply_cache import ReplyAudioCache
    from voice_agent.speech_out.voice_plan import VoiceFactory, report_to_log
    from voice_agent.speech_out.voices import VoiceRegistry

    langs = [normalize_code(c) for c in args.lang] if args.lang else None
    entries = load_entries(settings.path(settings.faq_dir))
    plan = VoiceRegistry(replace(settings, tts=replace(settings.tts, reply_cache=False)))
    failures: dict[str, str] = {}

    async def run() -> int:
        cache = ReplyAudioCache(settings.path(settings.var_dir) / "reply_audio")

        async def idle() -> None:
            return None

        prefill = Prefill(
            settings, cache, plan.describe, plan.voice_tag,
            lambda: VoiceFactory(settings, plan.espeak_library, settings.tts.kokoro_threads,
                                 report_to_log(failures)),
            report_to_log(failures), idle, languages=langs, entries=args.entry,
            lowest_priority=False,
        )  # fmt: skip

        async def show() -> None:
            while True:
                await asyncio.sleep(2)
                p = prefill.progress
                if p.get("state") == "filling":
                    done = p["made"] + p["failed"]
                    print(f"\r  {done}/{p['to_make']} pieces made", end="", file=sys.stderr)

        shower = asyncio.ensure_future(show())
        try:
            p = await prefill.fill(entries)
        finally:
            shower.cancel()
            prefill.close()
            plan.close()
        print(
            f"\nreply audio: {p['ready']}/{p['total']} pieces ready ({p['made']} made, "
            f"{p['failed']} failed, {p['evicted']} evicted), {p['bytes'] / 1e6:.0f} MB in "
            f"{cache.folder}"
        )
        return 1 if p["failed"] else 0

    return _run(run)


def cmd_faq(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.content.faq import load_entries

    entries = load_entries(settings.path(settings.faq_dir))
    if args.action == "report":
        import datetime as dt

        from voice_agent.content.reviews import report

        print(report(entries, dt.date.today(), settings.content.review_interval_days))
        return 0
    if args.action == "validate":
        from voice_agent.content.faq_validate import validate

        problems = validate(entries)
        for p in problems:
            print(p)
        print(f"{len(entries)} entries, {len(problems)} problems")
        return 1 if problems else 0

    async def run() -> int:
        from voice_agent.conversation.engine import Engine

        engine = Engine.create(settings)
        try:
            n = await engine.load_faq(_embedding_progress)
        finally:
            engine.close()
        print(f"loaded {n} entries into {settings.db_path}")
        return 0

    return _run(run)


def _embedding_progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\rembedding FAQ texts (first load only): {done}/{total}{end}")
    elif done >= total or done % 640 == 0:
        sys.stderr.write(f"embedding FAQ texts (first load only): {done}/{total}\n")
    sys.stderr.flush()


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.answer import evaluate

    cases = [c for f in args.file for c in evaluate.read_cases(f)]

    async def run() -> int:
        from voice_agent.conversation.engine import Engine

        engine = Engine.create(settings)
        try:
            await engine.load_faq(_embedding_progress)
            outcomes = await evaluate.run_cases(engine, cases)
            report = evaluate.markdown(outcomes)
            if args.sweep:
                report += "\nThreshold sweep (same retrieval results):\n\n"
                report += evaluate.sweep(outcomes, engine)
            wrong = evaluate.errors(outcomes)
            if wrong:
                report += "\nMisses:\n\n" + "\n".join(wrong) + "\n"
        finally:
            engine.close()
        out = args.out or settings.path(settings.var_dir) / "eval-report.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        print(report)
        print(f"report written to {out}")
        return 0

    return _run(run)


def cmd_llm(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.answer import calibrate, evaluate
    from voice_agent.answer.llm import LlamaGenerator
    from voice_agent.remote.factory import reply_generator

    dev = args.dev if args.dev.is_absolute() else settings.path(args.dev)
    if "heldout" in dev.name:
        raise BadInput(f"{dev.name}: held-out sets are never tuned on; calibrate on a dev set")
    cases = calibrate.pick(evaluate.read_cases(dev), args.per_language)
    criteria = calibrate.Criteria(
        args.min_grounded, args.max_fallback, args.min_kept, args.min_answers
    )
    llm_path = settings.model_path(settings.llm.model_file)

    def progress(i: int, n: int, case: evaluate.Case) -> None:
        sys.stderr.write(f"\rrephrasing {i + 1}/{n} ({case.lang})   ")
        sys.stderr.flush()

    async def run() -> int:
        from voice_agent.conversation.engine import Engine

        engine = Engine.create(settings)
        llm = reply_generator(
            settings, lambda: LlamaGenerator(llm_path, settings.llm, settings.models_path)
        )
        try:
            await engine.load_faq(_embedding_progress)
            figures = await calibrate.run(engine, llm, cases, progress)
        finally:
            llm.close()
            engine.close()
        sys.stderr.write("\n")
        data = calibrate.report(figures, criteria, settings, llm.name, str(args.dev))
        out = args.out or calibrate.calibration_path(settings)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(calibrate.markdown(data))
        print(f"written to {out}")
        return 0

    return _run(run)


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "voices": cmd_voices,
    "ask": cmd_ask,
    "say": cmd_say,
    "transcribe": cmd_transcribe,
    "models": cmd_models,
    "faq": cmd_faq,
    "eval": cmd_eval,
    "llm": cmd_llm,
    "users": cmd_users,
    "privacy": cmd_privacy,
}

if __name__ == "__main__":
    raise SystemExit(main())
