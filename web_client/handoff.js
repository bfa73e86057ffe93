// The citizen's side of talking to a person (kiosk and browser pages), driven by the server's
// `handoff`, `staff_viewing` and `reply` messages (docs/WIRE.md):
//   - waiting: the place in the queue and a cancel button (sends `handoff_cancel`);
//   - accepted: who is with them; returned: the assistant answers again;
//   - nobody on duty (or the wait expired): the helpline and staff hours — never a promise;
//   - "a member of staff is reading this conversation" while staff have it open;
//   - a reply from staff is marked as such on the caption;
//   - thumbs up/down under each FAQ answer (sends `feedback` with the answer's turn id).
// It also tells the console what this page is (kiosk or browser, and the kiosk's location
// label from the page address: /kiosk?location=Loja%20do%20Cidad%C3%A3o%20Lisboa).

import { HELPLINE, t } from "./i18n.js";
import { ht } from "./handoff-strings.js";

function node(doc, tag, props = {}, ...children) {
  const n = doc.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "className") n.className = v;
    else if (k === "hidden") n.hidden = Boolean(v);
    else n.setAttribute(k, v);
  }
  n.append(...children);
  return n;
}

export class HandoffPanel {
  constructor(app, doc = document, win = window) {
    this.app = app;
    this.doc = doc;
    this.win = win;
    this.sessionId = null;
    this.state = null;
    this.reply = null; // the reply being shown: {turn_id, faq_id, speaker}
    this._build();
    const on = (type, fn) => this._listen(type, fn);
    on("session", (m) => this._session(m));
    on("handoff", (m) => this._handoff(m));
    on("staff_viewing", (m) => { this.viewing.hidden = !m.viewing; this._text(); });
    on("reply", (m) => this._reply(m));
    on("reply_end", (m) => this._replyEnd(m));
    on("closed", () => this.clear());
  }

  /** voiceApp.onMessage (docs/WIRE.md); older controllers only have handleMessage. */
  _listen(type, fn) {
    if (typeof this.app.onMessage === "function") {
      this.app.onMessage(type, fn);
      return;
    }
    this._handlers ??= new Map();
    if (!this._handlers.size) {
      const original = this.app.handleMessage.bind(this.app);
      this.app.handleMessage = (msg) => {
        original(msg);
        for (const f of this._handlers.get(msg?.type) ?? []) f(msg);
      };
    }
    this._handlers.set(type, [...(this._handlers.get(type) ?? []), fn]);
  }

  _send(msg) {
    if (typeof this.app.send === "function") return this.app.send(msg);
    return this.app.session?.send(msg) ?? false;
  }

  get lang() {
    return this.doc.documentElement.lang || "pt";
  }

  _build() {
    const d = this.doc;
    this.panel = node(d, "aside", { className: "handoff-panel", id: "handoff-panel", "aria-live": "polite", hidden: true });
    this.status = node(d, "p", { className: "handoff-status", id: "handoff-status" });
    this.detail = node(d, "p", { className: "handoff-detail", id: "handoff-detail", hidden: true });
    this.cancel = node(d, "button", { type: "button", className: "btn btn-secondary", id: "handoff-cancel", hidden: true });
    this.cancel.addEventListener("click", () => {
      this._send({ type: "handoff_cancel" });
      this.cancel.disabled = true;
    });
    this.panel.append(this.status, this.detail, this.cancel);
    this.viewing = node(d, "p", { className: "staff-viewing", id: "staff-viewing", role: "status", hidden: true });
    this.staffLabel = node(d, "span", { className: "staff-label", id: "staff-label", hidden: true });
    this.thumbs = node(d, "div", { className: "thumbs", id: "thumbs", role: "group", hidden: true });
    this.thumbsQ = node(d, "span", { className: "thumbs-q", id: "thumbs-q" });
    this.up = node(d, "button", { type: "button", className: "btn btn-quiet thumb", "data-rating": "up" });
    this.down = node(d, "button", { type: "button", className: "btn btn-quiet thumb", "data-rating": "down" });
    this.thanks = node(d, "span", { className: "thumbs-thanks", role: "status" });
    this.thumbs.setAttribute("aria-labelledby", "thumbs-q");
    for (const b of [this.up, this.down]) b.addEventListener("click", () => this._rate(b.dataset.rating));
    this.thumbs.append(this.thumbsQ, this.up, this.down, this.thanks);
    const captions = d.getElementById("captions");
    captions?.after(this.viewing, this.panel);
    const assistant = d.getElementById("cap-assistant");
    assistant?.prepend(this.staffLabel);
    assistant?.append(this.thumbs);
    if (!d.querySelector('link[href="/static/handoff.css"]')) {
      d.head.append(node(d, "link", { rel: "stylesheet", href: "/static/handoff.css" }));
    }
    d.getElementById("reset")?.addEventListener("click", () => this.clear());
    new MutationObserver(() => this._text()).observe(d.documentElement, { attributes: true, attributeFilter: ["lang"] });
    this._text();
  }

  _text() {
    const lang = this.lang;
    this.cancel.textContent = ht(lang, "cancel");
    this.viewing.textContent = ht(lang, "viewing");
    this.thumbsQ.textContent = ht(lang, "helpful");
    this.up.textContent = `👍 ${ht(lang, "yes")}`;
    this.down.textContent = `👎 ${ht(lang, "no")}`;
    if (this.state) this._render(this.state);
  }

  _session(m) {
    if (!m.session_id || m.session_id === this.sessionId) return;
    this.clear();
    this.sessionId = m.session_id;
    const params = new URLSearchParams(this.win.location.search);
    const body = {
      session_id: m.session_id,
      source: this.doc.body?.dataset.mode === "kiosk" ? "kiosk" : "browser",
      location: (params.get("location") ?? "").slice(0, 80),
    };
    this.win.fetch("/api/kiosk/describe", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).catch(() => {}); // only a label for the console: never in the citizen's way
  }

  _handoff(m) {
    this.state = m;
    this._render(m);
  }

  _render(m) {
    const lang = this.lang;
    this.cancel.hidden = m.state !== "waiting";
    this.cancel.disabled = false;
    this.detail.hidden = true;
    this.panel.dataset.state = m.state;
    if (m.state === "waiting") {
      this.status.textContent = ht(lang, "waiting", { n: m.position ?? 1 });
    } else if (m.state === "accepted") {
      this.status.textContent = m.staff_name
        ? ht(lang, "accepted_named", { name: m.staff_name })
        : ht(lang, "accepted");
    } else if (m.state === "unavailable" || m.state === "expired" || !m.on_duty) {
      this.status.textContent = ht(lang, "nobody");
      // The numbers, unless the page's own helpline panel (#human) already shows them.
      const human = this.doc.getElementById("human");
      const phone = human && !human.hidden ? "" : t(lang, "human_phone", {
        line: HELPLINE.line, phone: m.helpline ?? HELPLINE.phone, mobile: m.helpline_mobile ?? HELPLINE.mobile,
      });
      const hours = m.hours ? ht(lang, "hours", { hours: m.hours }) : "";
      this.detail.textContent = [phone, hours].filter(Boolean).join(" ");
      this.detail.hidden = false;
    } else if (m.state === "cancelled") {
      this.status.textContent = ht(lang, "cancelled");
    } else {
      this.status.textContent = ht(lang, "returned");
    }
    this.panel.hidden = false;
  }

  _reply(m) {
    this.reply = { turn_id: m.turn_id ?? null, faq_id: m.faq_id ?? null, speaker: m.speaker ?? "assistant" };
    this.thumbs.hidden = true;
    this.thanks.textContent = "";
    const staff = m.speaker === "staff";
    this.staffLabel.hidden = !staff;
    this.staffLabel.textContent = staff
      ? (m.staff_name ? `${ht(this.lang, "from_staff")} · ${m.staff_name}` : ht(this.lang, "from_staff"))
      : "";
    this.doc.getElementById("cap-assistant")?.classList.toggle("cap-staff", staff);
  }

  _replyEnd(m) {
    const r = this.reply;
    if (!r || m.cancelled || r.speaker !== "assistant" || !r.faq_id || !r.turn_id) return;
    this.up.disabled = false;
    this.down.disabled = false;
    this.thumbs.hidden = false;
  }

  _rate(rating) {
    if (!this.reply?.turn_id) return;
    if (this._send({ type: "feedback", turn_id: this.reply.turn_id, rating }) === false) return;
    this.up.disabled = true;
    this.down.disabled = true;
    this.thanks.textContent = ht(this.lang, "thanks");
  }

  clear() {
    this.state = null;
    this.reply = null;
    this.panel.hidden = true;
    this.viewing.hidden = true;
    this.thumbs.hidden = true;
    this.staffLabel.hidden = true;
    this.sessionId = null;
  }
}

export function attachHandoff(app, doc = document) {
  if (!app) return null;
  const panel = new HandoffPanel(app, doc);
  app.handoffPanel = panel;
  return panel;
}
