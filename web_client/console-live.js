// The live side of the console: the hand-off queue and the list of sessions now (flagged ones
// first), kept up to date by the websocket feed.

import { FLAGS, HANDOFF_REASONS, clear, duration, el, langAttrs, languageName } from "./console-format.js";

export class LiveView {
  constructor(root, { me, open, accept, now = () => Date.now() / 1000 }) {
    this.root = root;
    this.me = me;
    this.open = open;
    this.accept = accept;
    this.now = now;
    this.sessions = new Map();
    this.handoffs = [];
    this.queueEl = root.querySelector("#queue");
    this.listEl = root.querySelector("#sessions");
    this.queueCount = root.querySelector("#queue-count");
    this.sessionsCount = root.querySelector("#sessions-count");
    this.timer = setInterval(() => this.render(), 5000); // durations and waiting times
  }

  reset(sessions, handoffs) {
    this.sessions = new Map(sessions.map((s) => [s.id, s]));
    this.handoffs = handoffs;
    this.render();
  }

  upsert(summary) {
    this.sessions.set(summary.id, summary);
    this.renderSessions();
  }

  remove(id) {
    this.sessions.delete(id);
    this.renderSessions();
  }

  setQueue(items) {
    this.handoffs = items;
    this.renderQueue();
    this.renderSessions();
  }

  render() {
    this.renderQueue();
    this.renderSessions();
  }

  renderQueue() {
    this.queueCount.textContent = String(this.handoffs.filter((h) => h.state === "waiting").length);
    if (!this.handoffs.length) {
      clear(this.queueEl, el("li", { className: "muted" }, "Nobody is waiting for a person."));
      return;
    }
    clear(this.queueEl, this.handoffs.map((h) => {
      const mine = h.staff === this.me().username;
      const where = h.location ? ` · ${h.location}` : "";
      const line = h.state === "waiting"
        ? `#${h.position} · waiting ${duration(this.now() - h.created_at)}`
        : `held by ${mine ? "you" : h.staff}`;
      return el("li", { className: "queue-item", dataset: { state: h.state, session: h.session_id } },
        el("p", {}, el("strong", {}, languageName(h.language)), where, ` · ${line}`),
        HANDOFF_REASONS[h.reason] ? el("p", { className: "queue-reason" }, HANDOFF_REASONS[h.reason]) : null,
        h.question ? el("p", { className: "queue-question", ...langAttrs(h.language) }, h.question) : null,
        el("div", { className: "row" },
          h.state === "waiting"
            ? el("button", {
              type: "button", className: "btn btn-primary", onclick: () => this.accept(h),
              "aria-label": `Accept hand-off: ${languageName(h.language)}${where}`,
            }, "Accept")
            : null,
          el("button", {
            type: "button", className: "btn", onclick: () => this.open(h.session_id),
            "aria-label": `Open conversation ${h.session_id}`,
          }, "Open")));
    }));
  }

  renderSessions() {
    const all = [...this.sessions.values()];
    all.sort((a, b) => (b.flags.length > 0) - (a.flags.length > 0) || b.last_activity - a.last_activity);
    this.sessionsCount.textContent = String(all.length);
    if (!all.length) {
      clear(this.listEl, el("li", { className: "muted" }, "No conversation right now."));
      return;
    }
    clear(this.listEl, all.map((s) => {
      const kind = s.source && s.source !== "unknown" ? s.source : "session";
      const label = [languageName(s.language), kind, s.location].filter(Boolean).join(" · ");
      const flags = [...new Set(s.flags)];
      return el("li", { className: "session-item", dataset: { flagged: flags.length ? "1" : "0", id: s.id } },
        el("button", { type: "button", className: "session-open", onclick: () => this.open(s.id) },
          el("span", { className: "session-line" }, el("strong", {}, label),
            ` · ${duration(this.now() - s.started_at)} · ${s.handoff ? `hand-off ${s.handoff.state}` : s.state}`),
          s.last_question
            ? el("span", { className: "session-question", ...langAttrs(s.language) }, s.last_question)
            : null,
          flags.length
            ? el("span", { className: "flag-chips" }, flags.map((f) => el("span", { className: "flag", dataset: { kind: f } }, FLAGS[f] ?? f)))
            : null));
    }));
  }

  stop() {
    clearInterval(this.timer);
  }
}
