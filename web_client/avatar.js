// The assistant's face: an original inline-SVG clerk (navy blazer, lanyard in green and red,
// a badge) who breathes and blinks when idle, leans in to listen, looks up to think and moves
// its mouth while speaking. Styles live in styles.css (.va-* rules), so a strict CSP works.
//
// Mouth drivers, in order of preference:
//   1. viseme timings from the server (`playVisemes(items, duration)`),
//   2. the loudness envelope of the reply audio (`followStream(stream)`, WebAudio analyser),
//   3. a value set by hand (`setMouthOpen(x)`).
// The current openness is mirrored on the <svg> as `data-mouth` (two decimals, 0..1).

const SVG_NS = "http://www.w3.org/2000/svg";

// Mouth shape per viseme: how open (0..1) and how wide (1 = neutral width).
export const VISEMES = Object.freeze({
  rest: { open: 0, width: 1 },
  A: { open: 0.95, width: 1.05 },
  E: { open: 0.55, width: 1.2 },
  I: { open: 0.35, width: 1.25 },
  O: { open: 0.75, width: 0.72 },
  U: { open: 0.45, width: 0.58 },
  M: { open: 0, width: 0.9 },
  F: { open: 0.16, width: 1.05 },
  L: { open: 0.5, width: 1 },
  S: { open: 0.2, width: 1.15 },
});

export const STATES = Object.freeze(["idle", "listening", "thinking", "speaking", "queued"]);

const MOUTH_X = 170;
const MOUTH_Y = 196;

let instances = 0;

function el(name, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const child of children) node.append(child);
  return node;
}

/** Quadratic-curve lips: corners at ±W, upper lip rises and lower lip drops as it opens. */
export function mouthPath(open, width) {
  const w = 20 * width;
  const h = 26 * open;
  const up = MOUTH_Y + 3 - h * 0.35;
  const low = MOUTH_Y + 7 + h * 1.5;
  const x0 = (MOUTH_X - w).toFixed(1);
  const x1 = (MOUTH_X + w).toFixed(1);
  return `M${x0} ${MOUTH_Y}Q${MOUTH_X} ${up.toFixed(1)} ${x1} ${MOUTH_Y}Q${MOUTH_X} ${low.toFixed(1)} ${x0} ${MOUTH_Y}Z`;
}

function buildSvg(uid, label) {
  const clipId = `va-clip-${uid}`;
  const mouthClipId = `va-mouth-${uid}`;
  const mouthClip = el("path", { d: mouthPath(0, 1) });
  const mouthFill = el("path", { class: "va-mouth-inside", d: mouthPath(0, 1) });
  const mouthLips = el("path", { class: "va-lips", d: mouthPath(0, 1) });
  const tongue = el("ellipse", { class: "va-tongue", cx: MOUTH_X, cy: MOUTH_Y + 14, rx: 11, ry: 7 });

  const svg = el("svg", {
    class: "va-avatar",
    viewBox: "0 0 340 340",
    role: "img",
    "aria-label": label,
    "data-state": "idle",
    "data-mouth": "0.00",
    focusable: "false",
  }, [
    el("defs", {}, [
      el("clipPath", { id: clipId }, [el("circle", { cx: 170, cy: 175, r: 150 })]),
      el("clipPath", { id: mouthClipId }, [mouthClip]),
    ]),
    el("circle", { class: "va-halo", cx: 170, cy: 175, r: 150 }),
    el("circle", { class: "va-ring", cx: 170, cy: 175, r: 158 }),
    el("g", { "clip-path": `url(#${clipId})` }, [
      el("g", { class: "va-figure" }, [
        // blazer, shirt, lanyard and badge
        el("path", { class: "va-blazer", d: "M44 350C46 292 86 258 138 250L202 250C254 258 294 292 296 350Z" }),
        el("path", { class: "va-shirt", d: "M138 250L170 300L202 250Z" }),
        el("path", { class: "va-lapel", d: "M138 250L160 312L146 262Z" }),
        el("path", { class: "va-lapel", d: "M202 250L180 312L194 262Z" }),
        el("path", { class: "va-strap-green", d: "M150 248L164 292" }),
        el("path", { class: "va-strap-red", d: "M190 248L176 292" }),
        el("g", { class: "va-badge" }, [
          el("rect", { class: "va-badge-card", x: 148, y: 288, width: 44, height: 34, rx: 5 }),
          el("rect", { class: "va-badge-band", x: 148, y: 288, width: 44, height: 9, rx: 3 }),
          el("circle", { class: "va-badge-face", cx: 160, cy: 309, r: 6 }),
          el("path", { class: "va-badge-line", d: "M171 305H185M171 312H182" }),
        ]),
        el("rect", { class: "va-neck", x: 148, y: 200, width: 44, height: 56, rx: 12 }),
        el("g", { class: "va-head" }, [
          el("ellipse", { class: "va-ear", cx: 106, cy: 156, rx: 11, ry: 17 }),
          el("ellipse", { class: "va-ear", cx: 234, cy: 156, rx: 11, ry: 17 }),
          el("ellipse", { class: "va-face", cx: 170, cy: 150, rx: 64, ry: 74 }),
          el("path", {
            class: "va-hair",
            d: "M104 156C96 96 128 70 172 70C216 70 246 98 236 156C232 132 224 116 210 106C196 118 158 122 126 120C114 128 108 140 104 156Z",
          }),
          el("g", { class: "va-brows" }, [
            el("path", { d: "M130 126Q144 118 157 124" }),
            el("path", { d: "M183 124Q196 118 210 126" }),
          ]),
          el("g", { class: "va-eyes" }, [
            el("g", { class: "va-eye" }, [
              el("ellipse", { class: "va-pupil", cx: 145, cy: 150, rx: 7.5, ry: 9 }),
              el("circle", { class: "va-glint", cx: 147.5, cy: 146.5, r: 2.4 }),
            ]),
            el("g", { class: "va-eye" }, [
              el("ellipse", { class: "va-pupil", cx: 195, cy: 150, rx: 7.5, ry: 9 }),
              el("circle", { class: "va-glint", cx: 197.5, cy: 146.5, r: 2.4 }),
            ]),
          ]),
          el("circle", { class: "va-cheek", cx: 128, cy: 180, r: 11 }),
          el("circle", { class: "va-cheek", cx: 212, cy: 180, r: 11 }),
          el("path", { class: "va-nose", d: "M170 156Q163 172 171 176" }),
          el("g", { class: "va-mouth" }, [
            mouthFill,
            el("g", { "clip-path": `url(#${mouthClipId})` }, [
              el("rect", { class: "va-teeth", x: MOUTH_X - 15, y: MOUTH_Y - 8, width: 30, height: 11, rx: 3 }),
              tongue,
            ]),
            mouthLips,
          ]),
          el("g", { class: "va-ear-waves" }, [
            el("path", { d: "M252 142Q260 156 252 170" }),
            el("path", { d: "M262 134Q274 156 262 178" }),
          ]),
        ]),
      ]),
    ]),
    el("g", { class: "va-thinking", "aria-hidden": "true" }, [
      el("circle", { class: "va-bubble", cx: 250, cy: 92, r: 5 }),
      el("circle", { class: "va-bubble", cx: 262, cy: 74, r: 8 }),
      el("rect", { class: "va-bubble", x: 262, y: 16, width: 72, height: 42, rx: 21 }),
      el("g", {}, [
        el("circle", { class: "va-dot", cx: 282, cy: 37, r: 5 }),
        el("circle", { class: "va-dot", cx: 298, cy: 37, r: 5 }),
        el("circle", { class: "va-dot", cx: 314, cy: 37, r: 5 }),
      ]),
    ]),
  ]);
  return { svg, mouth: { clip: mouthClip, fill: mouthFill, lips: mouthLips, tongue } };
}

function clamp01(x) {
  return Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0));
}

export class Avatar {
  /**
   * @param {Element} container where the SVG is appended
   * @param {{label?: string, latency?: number, win?: Window}} options
   *   latency: seconds between a `visemes` message and its audio reaching the speaker
   *   (jitter buffer + output), so the lips do not run ahead of the voice.
   */
  constructor(container, { label = "", latency = 0.12, win = window } = {}) {
    this.win = win;
    this.latency = latency;
    const built = buildSvg(++instances, label);
    this.svg = built.svg;
    this._mouthEls = built.mouth;
    this.state = "idle";
    this._shown = { open: 0, width: 1 };
    this._manual = { open: 0, width: 1 };
    this._segments = []; // scheduled viseme segments, one per sentence, played back to back
    this._analyser = null;
    this._audio = null;
    this._raf = 0;
    this._lastFrame = 0;
    this._blinkTimer = 0;
    this._motion = win.matchMedia?.("(prefers-reduced-motion: reduce)");
    container.append(this.svg);
    this._scheduleBlink();
  }

  get reducedMotion() {
    return Boolean(this._motion?.matches);
  }

  setLabel(label) {
    this.svg.setAttribute("aria-label", label);
  }

  setState(state) {
    const next = STATES.includes(state) ? state : "idle";
    this.state = next;
    this.svg.dataset.state = next;
    if (next !== "speaking" && !this._segments.length) this._manual = { open: 0, width: 1 };
    this._ensureLoop();
  }

  /**
   * Drive the mouth from `[[t_seconds, viseme], …]` for one sentence of `duration` seconds.
   * It starts now (plus the audio latency), or when the sentence before it ends if that one
   * is still playing: a server that sends visemes as audio is queued, rather than as it
   * starts, still gets its lips in sync. An empty `items` keeps the timing (for chaining) and
   * leaves the mouth to the audio envelope. Returns the start (seconds, performance clock).
   */
  playVisemes(items, duration) {
    const cues = (Array.isArray(items) ? items : [])
      .filter((it) => Array.isArray(it) && Number.isFinite(Number(it[0])))
      .map(([time, name]) => [Number(time), VISEMES[name] ? name : "rest"])
      .sort((a, b) => a[0] - b[0]);
    const last = cues.length ? cues[cues.length - 1][0] : 0;
    const given = Number(duration);
    const length = Number.isFinite(given) && given > 0 ? Math.max(given, last) : last + 0.2;
    const now = this.win.performance.now() / 1000;
    const previous = this._segments[this._segments.length - 1];
    const start = Math.max(now + this.latency, previous ? previous.start + previous.duration : 0);
    this._segments.push({ cues: cues.length ? cues : null, duration: length, start });
    this._ensureLoop();
    return start;
  }

  /** Follow the loudness of the reply audio (the remote MediaStream) when no visemes play. */
  followStream(stream) {
    this.stopFollowing();
    if (!stream?.getAudioTracks?.().length) return false;
    try {
      const ctx = this._context();
      if (!ctx) return false;
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      analyser.smoothingTimeConstant = 0;
      source.connect(analyser); // not to the destination: the <audio> element plays the reply
      this._audio = { source, buffer: new Float32Array(analyser.fftSize) };
      this._analyser = analyser;
      this.resumeAudio();
      this._ensureLoop();
      return true;
    } catch (err) {
      console.warn("avatar: cannot analyse the reply audio", err);
      return false;
    }
  }

  stopFollowing() {
    this._audio?.source.disconnect();
    this._audio = null;
    this._analyser = null;
  }

  /**
   * Browsers keep an AudioContext suspended until a user gesture: call this from one (it
   * also creates the context there, so the reply's analyser starts running).
   */
  resumeAudio() {
    const ctx = this._context();
    if (ctx?.state === "suspended") ctx.resume().catch(() => {});
  }

  _context() {
    if (!this._audioContext) {
      const Ctx = this.win.AudioContext ?? this.win.webkitAudioContext;
      if (!Ctx) return null;
      this._audioContext = new Ctx();
    }
    return this._audioContext;
  }

  /** Set the mouth by hand (0 = closed … 1 = wide open); drivers take over when active. */
  setMouthOpen(x, width = 1) {
    this._manual = { open: clamp01(x), width };
    this._render(this._manual.open, width);
    this._shown = { ...this._manual };
  }

  /** Stop lip movement now (the user interrupted the reply). */
  stopSpeaking() {
    this._segments = [];
    this._manual = { open: 0, width: 1 };
    this._ensureLoop();
  }

  destroy() {
    this.win.cancelAnimationFrame(this._raf);
    this.win.clearTimeout(this._blinkTimer);
    this.stopFollowing();
    this._audioContext?.close().catch(() => {});
    this.svg.remove();
  }

  // --- internals -------------------------------------------------------------------------

  _scheduleBlink() {
    const delay = 2200 + Math.random() * 4200;
    this._blinkTimer = this.win.setTimeout(() => {
      this._blink(Math.random() < 0.18);
      this._scheduleBlink();
    }, delay);
  }

  _blink(double) {
    this.svg.classList.add("va-blinking");
    this.win.setTimeout(() => this.svg.classList.remove("va-blinking"), 130);
    if (double) this.win.setTimeout(() => this._blink(false), 320);
  }

  _ensureLoop() {
    if (this._raf) return;
    this._lastFrame = this.win.performance.now();
    this._raf = this.win.requestAnimationFrame((now) => this._tick(now));
  }

  _target(nowSec) {
    while (this._segments.length && nowSec > this._segments[0].start + this._segments[0].duration) {
      this._segments.shift();
    }
    const v = this._segments[0];
    if (v?.cues) {
      const t = nowSec - v.start;
      if (t < 0) return VISEMES.rest;
      let name = "rest";
      for (const [time, cue] of v.cues) {
        if (time > t) break;
        name = cue;
      }
      return VISEMES[name];
    }
    if (this._analyser && this.state === "speaking") {
      this._analyser.getFloatTimeDomainData(this._audio.buffer);
      let sum = 0;
      for (const s of this._audio.buffer) sum += s * s;
      const rms = Math.sqrt(sum / this._audio.buffer.length);
      const db = 20 * Math.log10(rms + 1e-8);
      return { open: clamp01((db + 46) / 34), width: 1 }; // -20 dBFS speech ≈ 0.75
    }
    return this._manual;
  }

  _tick(now) {
    this._raf = 0;
    const dt = Math.min(0.1, Math.max(0, (now - this._lastFrame) / 1000));
    this._lastFrame = now;
    const target = this._target(now / 1000);
    // Opening is quick, closing a little slower; reduced motion halves the amplitude.
    const scale = this.reducedMotion ? 0.6 : 1;
    const goal = target.open * scale;
    const tau = goal > this._shown.open ? 0.04 : 0.07;
    const a = 1 - Math.exp(-dt / tau);
    const open = this._shown.open + (goal - this._shown.open) * a;
    const width = this._shown.width + (target.width - this._shown.width) * a;
    this._shown = { open, width };
    this._render(open, width);
    const active = this._segments.length || (this._analyser && this.state === "speaking");
    if (active || Math.abs(open - goal) > 0.005) {
      this._raf = this.win.requestAnimationFrame((t) => this._tick(t));
    }
  }

  _render(open, width) {
    const d = mouthPath(open, width);
    const m = this._mouthEls;
    m.clip.setAttribute("d", d);
    m.fill.setAttribute("d", d);
    m.lips.setAttribute("d", d);
    m.tongue.setAttribute("cy", (MOUTH_Y + 8 + 26 * open).toFixed(1));
    m.tongue.setAttribute("rx", (11 * width).toFixed(1));
    const value = open.toFixed(2);
    if (this.svg.dataset.mouth !== value) this.svg.dataset.mouth = value;
  }
}
