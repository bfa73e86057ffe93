// DOM rendering for both pages (kiosk.html and index.html share element ids). The view keeps
// the keys of what it shows, so a language switch re-renders every visible string.
// All user/server text goes in through textContent, never innerHTML.

import {
  HELPLINE,
  applyDocumentLanguage,
  isRtl,
  t,
  tNodes,
  translateTree,
} from "./i18n.js";

const byId = (doc, id) => doc.getElementById(id);

/** Only http(s) links, shown as host + path. Returns null for anything else. */
export function safeLink(link) {
  if (typeof link !== "string" || !link.trim()) return null;
  const raw = link.trim();
  let url;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `https://${raw}`);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return { href: url.href, label: url.host + path };
}

const squash = (text) => text.replace(/\s+/g, " ").trim();

/** Split at sentence ends (Latin, Arabic, Urdu, Devanagari, CJK) keeping every character. */
export function splitSentences(text) {
  const parts = [];
  let start = 0;
  for (const m of text.matchAll(/[.!?؟।۔](?=\s|$)\s*|[。！？]\s*/gu)) {
    const end = m.index + m[0].length;
    parts.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts.filter((p) => p.trim());
}

export class View {
  constructor(doc, mode) {
    this.doc = doc;
    this.mode = mode;
    this.lang = doc.documentElement.lang || "pt";
    const ids = [
      "welcome", "conversation", "lang-grid", "lang-select", "lang-button", "lang-current",
      "avatar-slot", "avatar-welcome-slot", "status", "banner", "captions", "cap-user",
      "cap-assistant", "answer-source", "human", "human-status",
      "human-phone", "human-close", "ask-form", "ask-input", "type-toggle", "talk", "talk-label",
      "handsfree-badge", "hold", "stop", "handoff", "reset", "idle-warning", "idle-text",
      "still-here", "privacy-note", "reply-audio",
    ];
    this.el = Object.fromEntries(ids.map((id) => [id, byId(doc, id)]));
    this._status = { key: "ready", params: {} };
    this._banner = null;
    this._human = null;
    this._idleSeconds = null;
    this._controls = { handsFree: false, holding: false, busy: false };
    this._matched = 0; // sentence spans already matched in the current reply
    this._wanted = -1; // the sentence to highlight
  }

  // --- language ------------------------------------------------------------------------

  translate(lang) {
    this.lang = lang;
    applyDocumentLanguage(lang, this.doc);
    translateTree(this.doc, lang);
    this.doc.title = t(lang, "title");
    this._renderStatus();
    this._renderBanner();
    this._renderHuman();
    this._renderIdle();
    this.setControls(this._controls);
    this._markCurrentLanguage();
  }

  renderLanguagePickers(languages, current, onPick) {
    const grid = this.el["lang-grid"];
    if (grid) {
      grid.replaceChildren(...languages.map((l) => {
        const button = this.doc.createElement("button");
        button.type = "button";
        button.className = "lang-option";
        button.dataset.lang = l.code;
        const native = this.doc.createElement("span");
        native.className = "lang-native";
        native.lang = l.code;
        native.dir = l.rtl ? "rtl" : "ltr";
        native.textContent = l.native;
        const english = this.doc.createElement("span");
        english.className = "lang-english";
        english.lang = "en";
        english.dir = "ltr";
        english.textContent = l.name;
        button.append(native, english);
        button.addEventListener("click", () => onPick(l.code));
        return button;
      }));
    }
    const select = this.el["lang-select"];
    if (select) {
      select.replaceChildren(...languages.map((l) => {
        const option = this.doc.createElement("option");
        option.value = l.code;
        option.lang = l.code;
        option.textContent = l.native === l.name ? l.native : `${l.native} — ${l.name}`;
        return option;
      }));
      select.onchange = () => onPick(select.value);
    }
    this._languages = languages;
    this.lang = current;
    this._markCurrentLanguage();
  }

  _markCurrentLanguage() {
    for (const b of this.el["lang-grid"]?.querySelectorAll(".lang-option") ?? []) {
      if (b.dataset.lang === this.lang) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    if (this.el["lang-select"]) this.el["lang-select"].value = this.lang;
    const current = this.el["lang-current"];
    const info = this._languages?.find((l) => l.code === this.lang);
    if (current && info) {
      current.textContent = info.native;
      current.lang = info.code;
    }
  }

  // --- screens and avatar ----------------------------------------------------------------

  showScreen(name) {
    this.doc.body.dataset.screen = name;
    if (this.el.welcome) this.el.welcome.hidden = name !== "welcome";
    if (this.el.conversation) this.el.conversation.hidden = name !== "conversation";
  }

  avatarSlot(screen) {
    return (screen === "welcome" && this.el["avatar-welcome-slot"]) || this.el["avatar-slot"];
  }

  showPrivacyNote(on) {
    if (this.el["privacy-note"]) this.el["privacy-note"].hidden = !on;
  }

  // --- status and banner -----------------------------------------------------------------

  setStatus(key, params = {}) {
    this._status = { key, params };
    this._renderStatus();
  }

  _renderStatus() {
    const el = this.el.status;
    if (!el) return;
    const text = t(this.lang, this._status.key, this._status.params);
    if (el.textContent !== text) el.textContent = text;
    el.dataset.key = this._status.key;
  }

  /** kind: "info" | "warn" | "error". One banner at a time; the newest wins. */
  showBanner(key, params = {}, kind = "warn") {
    this._banner = { key, params, kind };
    this._renderBanner();
  }

  /** Clear the banner, or only if it shows one of `keys`. */
  clearBanner(...keys) {
    if (!this._banner || (keys.length && !keys.includes(this._banner.key))) return;
    this._banner = null;
    this._renderBanner();
  }

  get bannerKey() {
    return this._banner?.key ?? null;
  }

  _renderBanner() {
    const el = this.el.banner;
    if (!el) return;
    if (!this._banner) {
      el.hidden = true;
      el.textContent = "";
      return;
    }
    el.hidden = false;
    el.dataset.kind = this._banner.kind;
    el.dataset.key = this._banner.key;
    el.textContent = t(this.lang, this._banner.key, this._banner.params);
  }

  // --- captions: the citizen's words and the assistant's answer --------------------------

  setUserCaption(text, { lang = null, interim = false } = {}) {
    const row = this.el["cap-user"];
    if (!row) return;
    const span = row.querySelector(".cap-text");
    span.textContent = text ?? "";
    span.lang = lang || this.lang;
    row.classList.toggle("interim", interim);
    row.hidden = !text;
  }

  /**
   * Start the assistant's caption for a reply: the whole text when the server sends it at
   * reply start (split into sentence spans so the one being spoken can be highlighted),
   * else empty and filled by `addSentence`. Spans are only ever added, never rewritten, so
   * the live region announces each sentence once.
   */
  startReply({ text = "", link = null, lang = null, status = null } = {}) {
    const row = this.el["cap-assistant"];
    if (!row) return;
    this._matched = 0;
    this._wanted = -1;
    const body = row.querySelector(".cap-text");
    body.lang = lang || this.lang;
    body.replaceChildren(...splitSentences(text).map((s) => this._sentenceSpan(s)));
    this._setSource(link, status === "machine-translated" ? lang || this.lang : null);
    row.hidden = !text && !safeLink(link);
  }

  /**
   * A sentence of the reply arrived: find its span (when the whole text came first) or
   * append one. Returns the span's index for `highlightSentence`.
   */
  addSentence(text) {
    const row = this.el["cap-assistant"];
    if (!row || !text) return -1;
    const body = row.querySelector(".cap-text");
    const spans = [...body.querySelectorAll(".sentence")];
    const wanted = squash(text);
    const from = this._matched ?? 0;
    let index = spans.findIndex((s, i) => {
      if (i < from) return false;
      const have = squash(s.textContent);
      return have === wanted || have.startsWith(wanted) || wanted.startsWith(have);
    });
    if (index < 0) {
      if (spans.length && !/\s$/.test(body.textContent)) body.append(this.doc.createTextNode(" "));
      body.append(this._sentenceSpan(text));
      index = spans.length;
    }
    this._matched = index + 1;
    row.hidden = false;
    if (this._wanted === index) this.highlightSentence(index);
    return index;
  }

  /** Mark the sentence being spoken (remembered if its span has not arrived yet). */
  highlightSentence(index) {
    this._wanted = index;
    const spans = this.el["cap-assistant"]?.querySelectorAll(".sentence") ?? [];
    spans.forEach((s, i) => s.classList.toggle("current", i === index));
  }

  /** The whole answer at once (text over HTTP). */
  showAnswer({ text = "", link = null, lang = null, status = null } = {}) {
    this.startReply({ text, link, lang, status });
  }

  /** The reply's text is complete: `text` (the whole answer) fills a caption left empty. */
  endReply(text = "") {
    const row = this.el["cap-assistant"];
    if (!row) return;
    const body = row.querySelector(".cap-text");
    if (text && !body.textContent.trim()) {
      body.replaceChildren(...splitSentences(text).map((s) => this._sentenceSpan(s)));
      row.hidden = false;
    }
  }

  clearCaptions() {
    this.setUserCaption("");
    this.startReply({});
  }

  _sentenceSpan(text) {
    const span = this.doc.createElement("span");
    span.className = "sentence";
    span.textContent = text;
    return span;
  }

  /**
   * The official source under the answer; `machineLang` (the answer's language, when its
   * translation is automatic and not yet reviewed) adds a line saying so in that language.
   */
  _setSource(link, machineLang = null) {
    const source = this.el["answer-source"];
    if (!source) return;
    const safe = safeLink(link);
    source.replaceChildren();
    source.hidden = !safe && !machineLang;
    if (machineLang) {
      const note = this.doc.createElement("span");
      note.className = "mt-note";
      note.id = "mt-note";
      note.lang = machineLang;
      note.dir = isRtl(machineLang) ? "rtl" : "ltr";
      note.textContent = t(machineLang, "machine_translated");
      source.append(note);
    }
    if (!safe) return;
    const label = this.doc.createElement("span");
    label.className = "source-label";
    label.dataset.i18n = "official_source";
    label.textContent = t(this.lang, "official_source");
    // In the kiosk the address is shown, not followed: the kiosk must not leave this page.
    const target = this.doc.createElement(this.mode === "kiosk" ? "span" : "a");
    target.className = "source-url";
    target.dir = "ltr";
    target.textContent = safe.label;
    if (this.mode !== "kiosk") {
      target.href = safe.href;
      target.target = "_blank";
      target.rel = "noopener noreferrer";
    }
    source.append(label, target);
  }

  // --- talk to a person ------------------------------------------------------------------

  showHuman() {
    this._human = {};
    this._renderHuman();
  }

  hideHuman() {
    this._human = null;
    this._renderHuman();
  }

  _phone(number) {
    const node = this.doc.createElement(this.mode === "kiosk" ? "span" : "a");
    node.className = "phone";
    node.dir = "ltr";
    node.textContent = number;
    if (this.mode !== "kiosk") node.href = `tel:+351${number.replaceAll(" ", "")}`;
    return node;
  }

  _renderHuman() {
    const box = this.el.human;
    if (!box) return;
    box.hidden = !this._human;
    if (!this._human) return;
    // What staff can or cannot do is said by the hand-off panel (handoff.js) from the
    // server's truth; this box only ever shows the helpline.
    const status = this.el["human-status"];
    status.textContent = "";
    status.hidden = true;
    const line = this.doc.createElement("strong");
    line.lang = "pt";
    line.dir = "ltr";
    line.textContent = HELPLINE.line;
    this.el["human-phone"].replaceChildren(...tNodes(this.lang, "human_phone", {
      line,
      phone: this._phone(HELPLINE.phone),
      mobile: this._phone(HELPLINE.mobile),
    }));
  }

  // --- text box ----------------------------------------------------------------------------

  revealTextForm({ focus = false } = {}) {
    const form = this.el["ask-form"];
    if (!form) return;
    form.hidden = false;
    this.el["type-toggle"]?.setAttribute("aria-expanded", "true");
    if (focus) this.el["ask-input"]?.focus();
  }

  toggleTextForm() {
    const form = this.el["ask-form"];
    if (!form) return;
    if (form.hidden) this.revealTextForm({ focus: true });
    else {
      form.hidden = true;
      this.el["type-toggle"]?.setAttribute("aria-expanded", "false");
    }
  }

  takeQuestion() {
    const input = this.el["ask-input"];
    const text = input?.value.trim() ?? "";
    if (text && input) input.value = "";
    return text;
  }

  // --- controls ----------------------------------------------------------------------------

  setControls(state) {
    this._controls = { ...this._controls, ...state };
    const { handsFree, holding, busy } = this._controls;
    const talk = this.el.talk;
    if (talk) {
      talk.setAttribute("aria-pressed", String(handsFree));
      const key = handsFree ? "stop_listening" : "tap_to_talk";
      if (this.el["talk-label"]) this.el["talk-label"].textContent = t(this.lang, key);
    }
    if (this.el["handsfree-badge"]) this.el["handsfree-badge"].hidden = !handsFree;
    this.el.hold?.classList.toggle("is-held", holding);
    this.el.hold?.setAttribute("aria-pressed", String(holding));
    if (this.el.stop) this.el.stop.hidden = !busy;
  }

  /** Push-to-talk: pointer down/up (captured) and Space/Enter held on the hold button. */
  bindHold(onStart, onStop) {
    const hold = this.el.hold;
    if (!hold) return;
    const isKey = (e) => e.key === " " || e.key === "Enter";
    hold.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      hold.setPointerCapture?.(e.pointerId);
      onStart();
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture", "blur"]) {
      hold.addEventListener(type, onStop);
    }
    hold.addEventListener("keydown", (e) => {
      if (!isKey(e)) return;
      e.preventDefault();
      if (!e.repeat) onStart();
    });
    hold.addEventListener("keyup", (e) => {
      if (!isKey(e)) return;
      e.preventDefault();
      onStop();
    });
    hold.addEventListener("click", (e) => e.preventDefault());
    hold.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  // --- idle warning ------------------------------------------------------------------------

  showIdleWarning(seconds) {
    const first = this._idleSeconds == null;
    this._idleSeconds = seconds;
    this._renderIdle();
    if (first) this.el["still-here"]?.focus();
  }

  hideIdleWarning() {
    this._idleSeconds = null;
    this._renderIdle();
  }

  _renderIdle() {
    const box = this.el["idle-warning"];
    if (!box) return;
    box.hidden = this._idleSeconds == null;
    if (this._idleSeconds != null) {
      this.el["idle-text"].textContent = t(this.lang, "idle_warning", { s: this._idleSeconds });
    }
  }

  get rtl() {
    return isRtl(this.lang);
  }
}
