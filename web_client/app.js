// The client controller shared by the kiosk (/kiosk) and the browser page (/): language,
// the voice session, server events -> captions (answer + official link) and avatar,
// push-to-talk and hands-free, talk to a person, privacy reset, and graceful degradation
// (no microphone -> typed questions; no WebRTC -> text over HTTP).
//
// The page says which mode it is in with <body data-mode="kiosk|browser">; the instance is
// exposed as `window.voiceApp` (tests inject server messages through `handleMessage`).
// Server messages are those of docs/WIRE.md, one handler each in HANDLERS (reading only the
// fields listed there: tests/unit/test_wire.py checks it). Other modules (the kiosk's hand-off
// panel) use `voiceApp.onMessage(type, fn)` and `voiceApp.send(message)`.

import { ApiError, ask, fetchLanguages, requestHandoff } from "./api.js";
import { Avatar } from "./avatar.js";
import { IdleTimer } from "./idle.js";
import {
  DEFAULT_LANGUAGE,
  LANGUAGES,
  browserLanguage,
  isSupported,
  mergeLanguages,
  normalizeLanguage,
  t,
} from "./i18n.js";
import { attachHandoff } from "./handoff.js";
import { SpokenReply } from "./reply.js";
import { MicError, VoiceSession, openMicrophone, rtcSupported } from "./rtc.js";
import { View } from "./view.js";

const KIOSK_IDLE_SECONDS = 60;
const IDLE_WARNING_SECONDS = 10; // shown before the reset when the idle time allows it
const LANGUAGE_SWITCH_PROBABILITY = 0.75; // follow the spoken language above this
const OPEN_TIMEOUT_MS = 6000; // data channel open, else typed questions go over HTTP
const SERVER_STATES = ["listening", "thinking", "speaking", "queued", "idle"];
const BUSY_STATES = ["thinking", "speaking"];

/**
 * Server -> client messages (docs/WIRE.md), one handler per type. A handler reads only the
 * fields the schema lists for its type (tests/unit/test_wire.py checks both ways).
 */
const HANDLERS = {
  session(app, msg) {
    app.sessionId = msg.session_id ?? app.sessionId;
  },
  state(app, msg) {
    app.serverState = SERVER_STATES.includes(msg.state) ? msg.state : "idle";
    if (app.serverState === "queued") {
      app.view.showBanner("queue_position", { n: msg.position ?? "…" }, "info");
    } else {
      app.view.clearBanner("queue_position");
      app._syncLanguage();
    }
    if (!BUSY_STATES.includes(app.serverState)) app.reply.finished();
    app._serverSaidIdle = app.serverState === "idle";
    if (!app.httpBusy) app.avatar.setState(app.serverState);
  },
  transcript(app, msg) {
    if (!msg.text) return;
    if (msg.final) app._newTurn();
    app.view.setUserCaption(msg.text, {
      lang: normalizeLanguage(msg.language),
      interim: !msg.final,
    });
  },
  language(app, msg) {
    const code = normalizeLanguage(msg.language);
    if (code && code !== app.lang && (msg.probability ?? 1) >= LANGUAGE_SWITCH_PROBABILITY) {
      app.setLanguage(code, { send: false });
    }
  },
  reply(app, msg) {
    app.reply.start({
      text: "",
      link: msg.link,
      lang: normalizeLanguage(msg.language) ?? app.lang,
      status: msg.status, // machine-translated: a line says so under the answer
    });
    // A staff member's words are marked as theirs (the hand-off panel styles them).
    const caption = app.view.el["cap-assistant"];
    if (caption) {
      caption.dataset.speaker = msg.speaker === "staff" ? "staff" : "assistant";
      if (msg.staff_name) caption.dataset.staffName = msg.staff_name;
      else delete caption.dataset.staffName;
    }
    if (msg.faq_id) app.lastAnswer = msg.turn_id;
    if (msg.handoff) app.view.showHuman();
  },
  sentence(app, msg) {
    app.reply.sentence(msg.text);
  },
  visemes(app, msg) {
    app.reply.visemes(msg.items, msg.duration);
  },
  reply_end(app, msg) {
    app.reply.end({ text: msg.text ?? "", cancelled: Boolean(msg.cancelled) });
  },
  handoff(app, msg) {
    // What the desk reported (the spoken reply says it too); the kiosk's hand-off panel
    // renders it through onMessage("handoff", ...). Nobody on duty: the helpline panel.
    app.handoff = msg;
    app.doc.body.dataset.handoff = msg.state;
    if (msg.state === "unavailable" || msg.state === "expired") {
      app.view.showHuman();
    }
  },
  staff_viewing(app, msg) {
    app.doc.body.dataset.staffViewing = msg.viewing ? "yes" : "no";
  },
  error(app, msg) {
    console.warn("server error:", msg.code, msg.message);
    // A queued session refuses messages; the queue banner already says why.
    if (app.serverState !== "queued") app.view.showBanner("error_generic", {}, "error");
  },
  closed(app, msg) {
    // The server ends the session (idle, shutting down): the next tap connects again,
    // without calling voice "unavailable".
    console.info("session closed by the server:", msg.reason);
    app._serverSaidIdle = true;
  },
};

function waitOpen(session, timeoutMs) {
  if (session.open) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    session.addEventListener("open", () => {
      clearTimeout(timer);
      resolve(true);
    }, { once: true });
    session.addEventListener("closed", () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

export class App {
  constructor(doc, mode, win = window) {
    this.doc = doc;
    this.win = win;
    this.mode = mode === "kiosk" ? "kiosk" : "browser";
    const params = new URLSearchParams(win.location.search);
    const idle = Number(params.get("idle"));
    this.idleSeconds = params.has("idle") && Number.isFinite(idle)
      ? idle
      : (this.mode === "kiosk" ? KIOSK_IDLE_SECONDS : 0);
    this.defaultLang = normalizeLanguage(params.get("lang"))
      ?? (this.mode === "kiosk" ? DEFAULT_LANGUAGE : browserLanguage(win.navigator));
    this.lang = this.defaultLang;
    this.languages = LANGUAGES;

    this.session = null;
    this._listeners = new Map(); // onMessage(type, fn)
    this.lastAnswer = null; // turn id of the last reply that answered (for feedback)
    this.handoff = null; // the last "handoff" message
    this.connecting = null;
    this.sessionId = null;
    this.voice = "unknown"; // "ok" | "unavailable"
    this.handsFree = false;
    this.holding = false;
    this.serverState = "idle";
    this.waiting = false; // queued or rate limited: a retry is scheduled
    this._serverSaidIdle = false; // the server's last state was "idle" (it may close next)
    this.httpBusy = false;
    this.screen = this.mode === "kiosk" ? "welcome" : "conversation";
    this._retryTimer = 0;
    this._epoch = 0; // bumped by each privacy reset: late connections of a reset person are dropped

    this.view = new View(doc, this.mode);
    this.idle = new IdleTimer({
      seconds: this.idleSeconds,
      warnSeconds: IDLE_WARNING_SECONDS,
      onWarn: (left) => this.view.showIdleWarning(left),
      onHideWarning: () => this.view.hideIdleWarning(),
      onExpire: () => this.resetConversation({ reason: "idle" }),
      win,
    });
    this.avatar = new Avatar(this.view.avatarSlot(this.screen), {
      label: t(this.lang, "avatar_label"),
      win,
    });
    this.reply = new SpokenReply({ view: this.view, avatar: this.avatar, win });
    this.view.renderLanguagePickers(this.languages, this.lang, (code) => this.pickLanguage(code));
    this._bind();
    this.setLanguage(this.lang, { send: false });
    this.showScreen(this.screen);
    this._render();
    this._loadLanguages();
  }

  // --- language and screens ----------------------------------------------------------------

  async _loadLanguages() {
    try {
      const list = mergeLanguages(await fetchLanguages());
      const same = list.length === this.languages.length
        && list.every((l, i) => l.code === this.languages[i].code
          && l.native === this.languages[i].native);
      if (!same) {
        this.languages = list;
        this.view.renderLanguagePickers(list, this.lang, (code) => this.pickLanguage(code));
      }
    } catch (err) {
      console.warn("languages: using the built-in list", err);
    }
  }

  setLanguage(code, { send = true } = {}) {
    if (!isSupported(code)) return;
    this.lang = code;
    this.view.translate(code);
    this.avatar.setLabel(t(code, "avatar_label"));
    this._render();
    if (send) this._syncLanguage();
    else if (this.session) this.session.lang = code; // the server chose it: nothing to send
  }

  /** Tell the session the language picked on the page (not while queued: it would refuse). */
  _syncLanguage() {
    const session = this.session;
    if (!session?.open || this.serverState === "queued" || session.lang === this.lang) return;
    if (this.send({ type: "lang", lang: this.lang })) session.lang = this.lang;
  }

  /** A language chosen on the page (grid button or select). */
  pickLanguage(code) {
    this.setLanguage(code);
    this.avatar.resumeAudio();
    if (this.mode === "kiosk") {
      this.view.showPrivacyNote(false);
      const starting = this.screen === "welcome" && !this.session;
      this.showScreen("conversation");
      this.view.el.talk?.focus();
      if (starting) this.startHandsFree();
    }
    this._bumpIdle();
  }

  showScreen(name) {
    this.screen = name;
    this.view.showScreen(name);
    const slot = this.view.avatarSlot(name);
    if (slot && this.avatar.svg.parentNode !== slot) slot.append(this.avatar.svg);
    this._applyMic();
    this._bumpIdle();
  }

  // --- voice session -----------------------------------------------------------------------

  /** The open session, connecting first if needed; null when voice is unavailable. */
  async ensureSession({ withMic }) {
    if (this.session) {
      if (withMic && !this.session.hasMicrophone) await this._attachMic(this.session);
      return this.session;
    }
    if (!rtcSupported(this.win)) {
      this._voiceUnavailable(new Error("RTCPeerConnection is not available"));
      return null;
    }
    if (!this.connecting) {
      this._connectingWithMic = withMic;
      this.connecting = this._connect(withMic).finally(() => {
        this.connecting = null;
        this._render();
      });
    }
    const triedMic = this._connectingWithMic;
    const session = await this.connecting;
    // A connection started for typed text has no microphone yet: ask for it now.
    if (session && withMic && !triedMic && !session.hasMicrophone) await this._attachMic(session);
    return session;
  }

  async _openMic() {
    try {
      const stream = await openMicrophone(this.win.navigator);
      this.view.clearBanner("mic_unavailable");
      return stream;
    } catch (err) {
      if (!(err instanceof MicError)) throw err;
      console.warn(err.message, err.cause ?? "");
      this.view.showBanner("mic_unavailable", {}, "warn");
      this.view.revealTextForm();
      return null;
    }
  }

  async _attachMic(session) {
    const stream = await this._openMic();
    if (stream) await session.attachMicrophone(stream);
  }

  async _connect(withMic) {
    const epoch = this._epoch;
    this._render({ connecting: true });
    const mic = withMic ? await this._openMic() : null;
    // a reconnect names the previous session (the same person: kiosk resets clear sessionId)
    const session = new VoiceSession({ lang: this.lang, resume: this.sessionId });
    session.addEventListener("message", (e) => {
      if (this.session === session) this.handleMessage(e.detail);
    });
    session.addEventListener("remotestream", (e) => this._playReply(e.detail));
    session.addEventListener("open", () => this._syncLanguage()); // the offer carried a language
    session.addEventListener("closed", () => this._sessionClosed(session));
    try {
      await session.connect(mic);
    } catch (err) {
      session.close();
      if (epoch === this._epoch) this._connectFailed(err, withMic);
      return null;
    }
    if (epoch !== this._epoch) {
      session.sendAndClose({ type: "reset" }); // the person it was for has gone
      return null;
    }
    this.session = session;
    this.sessionId = session.sessionId;
    this.voice = "ok";
    this.waiting = false;
    this._serverSaidIdle = false;
    this.view.clearBanner("voice_unavailable", "queue_position", "rate_limited", "error_network");
    return session;
  }

  _connectFailed(err, withMic) {
    // Rate limited: wait and retry; hands-free stays wanted so the microphone opens by itself
    // once connected. (A busy server does not refuse: it queues the session and says so.)
    if (err instanceof ApiError && err.kind === "rate_limited") {
      this.view.showBanner("rate_limited", { s: Math.ceil(err.retryAfter) }, "warn");
      this.waiting = true;
      this.win.clearTimeout(this._retryTimer);
      this._retryTimer = this.win.setTimeout(async () => {
        this.waiting = false;
        if (this.screen !== "conversation" || this.session) return;
        await this.ensureSession({ withMic });
        this._applyMic();
        this._render();
      }, err.retryAfter * 1000);
    } else {
      this._voiceUnavailable(err);
    }
  }

  _voiceUnavailable(err) {
    console.warn("voice connection unavailable:", err?.message ?? err);
    this.voice = "unavailable";
    this.handsFree = false;
    this.view.showBanner("voice_unavailable", {}, "warn");
    this.view.revealTextForm();
    this._render();
  }

  _sessionClosed(session) {
    if (this.session !== session) return; // closed on purpose (reset) or a failed attempt
    this.session = null;
    this.serverState = "idle";
    this.reply.stop();
    this.avatar.setState("idle");
    if (this._serverSaidIdle) {
      // The server ended an idle session: the next tap or question connects again.
      this.handsFree = false;
      this.voice = "unknown";
      this._render();
    } else {
      this._voiceUnavailable(new Error("the voice connection closed"));
    }
  }

  _playReply(stream) {
    const audio = this.view.el["reply-audio"];
    if (audio) {
      audio.srcObject = stream;
      audio.play().catch((err) => console.warn("reply audio: autoplay refused", err?.name));
    }
    this.avatar.followStream(stream);
  }

  /** The microphone is open while hands-free is on or the hold button is down. */
  _applyMic() {
    const open = (this.handsFree || this.holding) && this.screen === "conversation";
    this.session?.setMicEnabled(open);
  }

  // --- talking -----------------------------------------------------------------------------

  async startHandsFree() {
    this.handsFree = true;
    this._render();
    const session = await this.ensureSession({ withMic: true });
    if (session ? !session.hasMicrophone : !this.waiting) this.handsFree = false;
    this._applyMic();
    this._render();
  }

  stopHandsFree() {
    this.handsFree = false;
    this._applyMic();
    this._render();
  }

  toggleTalk() {
    this.avatar.resumeAudio();
    if (this.handsFree) this.stopHandsFree();
    else this.startHandsFree();
  }

  async startHold() {
    if (this.holding) return;
    this.holding = true;
    this.handsFree = false; // hold-to-talk takes over from hands-free
    if (BUSY_STATES.includes(this.serverState)) this.interrupt();
    this._render();
    const session = await this.ensureSession({ withMic: true });
    if (!session?.hasMicrophone) this.holding = false;
    this._applyMic();
    this._render();
  }

  stopHold() {
    if (!this.holding) return;
    this.holding = false;
    this._applyMic();
    this._render();
  }

  interrupt() {
    this.send({ type: "interrupt" });
    this.reply.stop();
  }

  async submitText(text) {
    if (!text) return;
    this.avatar.resumeAudio();
    this.view.clearBanner("error_generic", "error_network");
    this._newTurn();
    this.view.setUserCaption(text, { lang: this.lang });
    if (this.voice !== "unavailable") {
      const session = await this.ensureSession({ withMic: false });
      const ready = session && (await waitOpen(session, OPEN_TIMEOUT_MS));
      if (ready && this.serverState !== "queued") {
        session.send({ type: "text", text });
        return;
      }
    }
    await this._askOverHttp(text);
  }

  async _askOverHttp(text) {
    this.httpBusy = true;
    this.idle.stop(); // a person waiting for an answer is not idle
    const epoch = this._epoch;
    this.avatar.setState("thinking");
    this._render();
    try {
      const result = await ask(text, this.lang);
      if (epoch !== this._epoch) return; // the screen was reset meanwhile: not theirs any more
      const lang = normalizeLanguage(result.language);
      if (lang && lang !== this.lang) this.setLanguage(lang, { send: false });
      this.view.setUserCaption(result.transcript || text, { lang: lang ?? this.lang });
      this.view.showAnswer({
        text: result.answer ?? "", link: result.link, lang, status: result.status,
      });
      if (result.handoff) this.view.showHuman();
    } catch (err) {
      console.warn("ask failed:", err?.message ?? err);
      const network = err instanceof ApiError && err.kind === "network";
      this.view.showBanner(network ? "error_network" : "error_generic", {}, "error");
    } finally {
      this.httpBusy = false;
      this.avatar.setState(this.serverState);
      this._render();
      this._bumpIdle();
    }
  }

  /**
   * "Talk to a person": the voice session asks the staff desk and the reply says the truth
   * (someone on duty and the place in the queue, or the helpline and the opening hours). The
   * helpline panel is true whatever the answer; without a session, HTTP gets the same.
   */
  async talkToPerson() {
    this.view.showHuman();
    if (!this.send({ type: "handoff" })) {
      try {
        await requestHandoff(this.sessionId, this.lang);
      } catch (err) {
        console.warn("handoff request failed:", err?.message ?? err);
      }
    }
    this._bumpIdle();
  }

  /** Thumbs up ("up") or down ("down") for the last answer. */
  rateAnswer(rating) {
    return this.lastAnswer ? this.send({ type: "feedback", turn_id: this.lastAnswer, rating }) : false;
  }

  // --- wire: server messages in, client messages out ---------------------------------------

  /**
   * Register `fn(msg)` for one server message type ("*": all), called after the built-in
   * handling. Returns a function that unregisters it.
   */
  onMessage(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this._listeners.get(type)?.delete(fn);
  }

  /** Send a client message (docs/WIRE.md) on the open session; false if none is open. */
  send(message) {
    const session = this.session;
    if (!session?.open) return false;
    if (this.serverState === "queued" && message.type !== "reset") return false; // refused
    return session.send(message);
  }

  handleMessage(msg) {
    const handler = Object.hasOwn(HANDLERS, msg.type) ? HANDLERS[msg.type] : null;
    handler?.(this, msg);
    for (const key of [msg.type, "*"]) {
      for (const fn of this._listeners.get(key) ?? []) {
        try {
          fn(msg);
        } catch (err) {
          console.error(`onMessage(${key}) handler failed`, err);
        }
      }
    }
    this.doc.dispatchEvent(new CustomEvent("voice-message", { detail: msg }));
    if (!handler) return; // unknown types are ignored (forward compatible)
    this._render();
    // Server chatter while nobody is there ("listening" again) must not keep the screen alive.
    const quiet = msg.type === "state" && !BUSY_STATES.includes(this.serverState);
    this._bumpIdle({ restart: !quiet });
  }

  _newTurn() {
    // While a person holds the conversation the citizen is answering them: their last
    // message stays on screen (it is replaced by their next one, never by silence).
    if (this.handoff?.state === "accepted") this.reply.finished();
    else this.reply.clear();
  }

  // --- privacy reset -----------------------------------------------------------------------

  /** Clear the screen and the server's memory of this person ("Start again" or idle). */
  async resetConversation({ reason = "manual" } = {}) {
    this._epoch += 1;
    this.idle.stop();
    this.win.clearTimeout(this._retryTimer);
    this.waiting = false;
    const session = this.session;
    this.handsFree = false;
    this.holding = false;
    this.serverState = "idle";
    this.reply.stop();
    this.avatar.setState("idle");
    this.view.clearCaptions();
    this.view.hideHuman();
    this.lastAnswer = null;
    this.handoff = null;
    delete this.doc.body.dataset.handoff;
    delete this.doc.body.dataset.staffViewing;
    this.view.clearBanner();
    this.view.takeQuestion();
    if (this.mode === "kiosk") {
      // Free the server slot and the microphone; the next person starts a new session.
      this.session = null;
      this.sessionId = null;
      this.voice = "unknown";
      if (this.view.el["reply-audio"]) this.view.el["reply-audio"].srcObject = null;
      this.avatar.stopFollowing();
      if (this.view.el["ask-form"]) this.view.el["ask-form"].hidden = true;
      this.setLanguage(this.defaultLang, { send: false });
      this.showScreen("welcome");
      this.view.showPrivacyNote(true);
      session?.sendAndClose({ type: "reset" });
    } else {
      session?.send({ type: "reset" });
      this._applyMic();
      this.view.showBanner("privacy_reset", {}, "info");
    }
    this._render();
    console.info(`conversation reset (${reason})`);
  }

  _hasConversation() {
    const v = this.view.el;
    const shown = (id) => Boolean(v[id] && !v[id].hidden);
    return shown("cap-user") || shown("cap-assistant") || shown("human")
      || Boolean(this.session) || this.handsFree;
  }

  /**
   * Activity restarts the privacy countdown (`restart: false`: only start it if stopped).
   * It is paused during a turn, while the hold button is down and on the kiosk's welcome
   * screen, and in browser mode runs only when there is something to clear.
   */
  _bumpIdle({ restart = true } = {}) {
    const onScreen = this.mode === "kiosk"
      ? this.screen === "conversation"
      : this._hasConversation();
    const busy = this.holding || this.httpBusy || BUSY_STATES.includes(this.serverState);
    if (onScreen && !busy) this.idle.start({ restart });
    else this.idle.stop();
  }

  // --- wiring ------------------------------------------------------------------------------

  _render({ connecting = Boolean(this.connecting) } = {}) {
    const micOpen = (this.handsFree || this.holding) && Boolean(this.session?.hasMicrophone);
    let key = "ready";
    if (this.httpBusy) key = "thinking";
    else if (connecting || this.waiting || this.serverState === "queued") key = "connecting";
    else if (BUSY_STATES.includes(this.serverState)) key = this.serverState;
    else if (micOpen) key = "listening";
    this.view.setStatus(key);
    this.view.setControls({
      handsFree: this.handsFree,
      holding: this.holding,
      busy: Boolean(this.session) && BUSY_STATES.includes(this.serverState),
    });
    this.doc.body.dataset.voice = this.voice;
  }

  _bind() {
    const el = this.view.el;
    const activity = () => {
      this.avatar.resumeAudio();
      this._bumpIdle();
    };
    for (const type of ["pointerdown", "keydown", "input"]) {
      this.doc.addEventListener(type, activity, { capture: true, passive: true });
    }
    el.talk?.addEventListener("click", () => this.toggleTalk());
    this.view.bindHold(() => this.startHold(), () => this.stopHold());
    el.stop?.addEventListener("click", () => this.interrupt());
    el.handoff?.addEventListener("click", () => this.talkToPerson());
    el.reset?.addEventListener("click", () => this.resetConversation({ reason: "manual" }));
    el["human-close"]?.addEventListener("click", () => this.view.hideHuman());
    el["type-toggle"]?.addEventListener("click", () => this.view.toggleTextForm());
    el["lang-button"]?.addEventListener("click", () => this.showScreen("welcome"));
    el["still-here"]?.addEventListener("click", () => this._bumpIdle());
    el["ask-form"]?.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submitText(this.view.takeQuestion());
    });
    this.win.addEventListener("pagehide", () => this.session?.close());
  }
}

const mode = document.body?.dataset.mode;
if (mode) window.voiceApp = new App(document, mode);
if (mode) attachHandoff(window.voiceApp, document); // waiting, staff, thumbs (handoff.js)
