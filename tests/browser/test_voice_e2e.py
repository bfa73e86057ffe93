"""End to end in real headless Chromium: a (fake) microphone speaks, the avatar answers.

Chromium's fake capture device plays a WAV made with the Piper voice; the real server hears
it over WebRTC, transcribes it, answers, and sends the reply audio back. Screenshots of the
kiosk in pt, ar (right-to-left) and zh are written to var/screenshots/ for people to look at.
"""

from __future__ import annotations

import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.server import ROOT
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

SHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The question once, then 40 s of silence (Chromium loops the file)."""
    folder = tmp_path_factory.mktemp("mic")
    raw = folder / "q.wav"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "voice_agent.cli",
            "say",
            "--lang",
            "en",
            "Where do I get a tax number in Portugal?",
            "-o",
            str(raw),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with wave.open(str(raw)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    padded = np.concatenate([np.zeros(rate, np.int16), pcm, np.zeros(rate * 40, np.int16)])
    out = folder / "question.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(padded.tobytes())
    return out


@pytest.fixture(scope="module")
def mic_browser(playwright_instance, question_wav: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={question_wav}"],
    )
    yield browser
    browser.close()


LEVELS = """
  window.__levels = [];
  const audioEl = () => document.getElementById('reply-audio');
  setInterval(() => {
    const el = audioEl();
    if (!el || !el.srcObject) return;
    if (!window.__analyser) {
      const ctx = new AudioContext();
      const src = ctx.createMediaStreamSource(el.srcObject);
      window.__analyser = ctx.createAnalyser();
      src.connect(window.__analyser);
    }
    const buf = new Float32Array(1024);
    window.__analyser.getFloatTimeDomainData(buf);
    let s = 0; for (const x of buf) s += x * x;
    window.__levels.push(Math.sqrt(s / buf.length));
  }, 100);
"""


def test_spoken_question_answered_aloud_with_a_moving_mouth(mic_browser, base_url: str) -> None:
    context = mic_browser.new_context(viewport={"width": 1080, "height": 1920})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(LEVELS)
    page.goto(f"{base_url}/kiosk?idle=0&lang=en")
    page.wait_for_function("() => window.voiceApp")
    page.click(".lang-option[data-lang=en]")
    page.wait_for_function("() => window.voiceApp.session?.open", timeout=20_000)
    page.wait_for_function(
        "() => document.querySelector('#cap-user .cap-text')"
        "?.innerText.toLowerCase().includes('tax')",
        timeout=60_000,
    )
    try:
        page.wait_for_function(
            "() => document.querySelector('#answer-source')?.innerText"
            ".includes('portaldasfinancas')",
            timeout=60_000,
        )
    except Exception:
        print("user caption:", page.inner_text("#cap-user"))
        print("assistant caption:", page.inner_text("#cap-assistant"))
        raise
    mouths = []
    for _ in range(30):
        page.wait_for_timeout(100)
        mouths.append(float(page.get_attribute(".va-avatar", "data-mouth") or 0))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kiosk-en-voice.png"))
    levels = page.evaluate("window.__levels")
    assert max(levels) > 0.01, "the reply audio was silent"
    assert max(mouths) > 0.1 and len({round(m, 2) for m in mouths}) > 3, mouths
    assert "portaldasfinancas" in page.inner_text("#answer-source")
    assert not errors
    context.close()


def _typed_on_the_kiosk(page, base_url: str, lang: str, question: str, expect: str) -> None:
    """Open the kiosk in `lang`, type `question` over the live session, and wait until the
    answer's caption shows `expect`."""
    page.goto(f"{base_url}/kiosk?idle=0&lang={lang}")
    page.wait_for_function("() => window.voiceApp")
    page.click(f".lang-option[data-lang={lang}]")
    page.wait_for_function("() => window.voiceApp.session?.open", timeout=20_000)
    page.click("#type-toggle")
    page.fill("#ask-input", question)
    page.press("#ask-input", "Enter")
    page.wait_for_function(
        f"() => document.querySelector('#cap-assistant .cap-text')?.innerText.includes({expect!r})",
        timeout=30_000,
    )
    page.wait_for_timeout(800)


@pytest.mark.parametrize(
    ("lang", "question", "expect"),
    [
        ("pt", "Como é que tiro o número de utente?", "utente"),
        ("ar", "كيف أحصل على رقم التعريف الضريبي NIF؟", "NIF"),
        ("zh", "我在哪里可以办理居留许可？", "AIMA"),
    ],
)
def test_kiosk_screenshots_in_pt_ar_zh(
    ui_page, base_url: str, lang: str, question: str, expect: str
) -> None:
    page = ui_page
    _typed_on_the_kiosk(page, base_url, lang, question, expect)
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"kiosk-{lang}.png"))


def test_romanised_punjabi_typed_on_an_english_kiosk_is_answered_in_punjabi(
    ui_page, base_url: str
) -> None:
    """Punjabi typed in Latin letters was taken for English or Turkish; now the page turns to
    Punjabi and the answer is the Punjabi one."""
    page = ui_page
    question = "mainu financas da password chahida, kiven milda"
    _typed_on_the_kiosk(page, base_url, "en", question, "ਰਜਿਸਟਰ")
    assert page.get_attribute("html", "lang") == "pa"
    # the Punjabi answer is machine-translated: the kiosk says so, in Punjabi
    note = page.locator("#answer-source #mt-note")
    assert note.get_attribute("lang") == "pa"
    assert note.inner_text().strip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kiosk-pa-romanised.png"))
