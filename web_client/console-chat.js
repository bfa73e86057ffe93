// One conversation in the console: its transcript (both sides, FAQ id and version, confidence,
// mode, voice, per-stage latency), its flags, ratings of answers, and — when this staff member
// holds its hand-off — sending a published answer (in the citizen's language) or typed text,
// handing it back to the assistant, closing it with an outcome.

import {
  FLAGS, HANDOFF_STATES, OUTCOMES, clear, clock, el, langAttrs, languageName, ms,
} from "./console-format.js";

const SPEAKER = { citizen: "Citizen", assistant: "Assistant", staff: "Staff" };

export class ConversationPanel {
  constructor(root, api, { me, feed, announce, onError }) {
    this.root = root;
    this.api = api;
    this.me = me;
    this.feed = feed;
    this.announce = announce;
    this.onError = onError;
    this.id = null;
    this.data = null;
    this.handoff = null;
    this.title = root.querySelector("#conv-title");
    this.body = root.querySelector("#conv-body");
    this.empty = root.querySelector("#conv-empty");
  }

  async open(id, { focus = true } = {}) {
    if (this.id && this.id !== id) this.feed()?.unwatch(this.id);
    this.id = id;
    try {
      this.data = await this.api.session(id);
    } catch (err) {
      this.id = null;
      this.onError(err);
      return;
    }
    this.handoff = this.data.handoff ?? null;
    if (this.data.live) this.feed()?.watch(id);
    this.render();
    if (focus) this.title.focus();
  }

  closePanel() {
    if (this.id) this.feed()?.unwatch(this.id);
    this.id = null;
    this.data = null;
    this.body.hidden = true;
    this.empty.hidden = false;
    this.title.textContent = "Conversation";
  }

  // --- live updates from the feed ----------------------------------------------------------
  onFeed(msg) {
    if (!this.data || msg.session_id !== this.id) return;
    if (msg.type === "turn") {
      this.data.turns.push(msg.turn);
      this.list.append(this.turnItem(msg.turn));
      if (msg.turn.speaker === "citizen") this.announce(`Citizen: ${msg.turn.text}`);
    } else if (msg.type === "times") {
      const turn = [...this.data.turns].reverse().find((t) => t.turn_id === msg.turn_id && t.speaker !== "citizen");
      if (turn) {
        Object.assign(turn, msg);
        this.renderTurns();
      }
    } else if (msg.type === "flag") {
      this.data.flags.push(msg.flag);
      this.renderFlags();
    }
  }

  /** The hand-off queue changed: refresh the controls if it concerns this conversation. */
  onQueue(items) {
    if (!this.data?.live) return;
    const mine = items.find((h) => h.session_id === this.id) ?? null;
    const before = JSON.stringify([this.handoff?.id, this.handoff?.state, this.handoff?.staff]);
    this.handoff = mine;
    if (JSON.stringify([mine?.id, mine?.state, mine?.staff]) !== before) this.renderControls();
  }

  sessionEnded(id) {
    if (id !== this.id || !this.data) return;
    this.data.live = false;
    this.handoff = null;
    this.meta.textContent = `${this.meta.textContent} · ended`;
    this.renderControls();
    this.announce("The citizen left this conversation.");
  }

  // --- rendering ---------------------------------------------------------------------------
  render() {
    const s = this.data.session;
    this.empty.hidden = true;
    this.body.hidden = false;
    this.title.textContent = `Conversation ${s.id}`;
    const where = [s.source && s.source !== "unknown" ? s.source : null, s.location || null]
      .filter(Boolean).join(" · ");
    this.meta = el("p", { className: "muted" },
      [languageName(s.language), where, this.data.live ? "live" : "ended"].filter(Boolean).join(" · "));
    this.flagsBox = el("div", { className: "flags-box" });
    this.controls = el("div", { className: "handoff-controls" });
    this.list = el("ol", { className: "transcript", "aria-label": "Transcript" });
    const watchers = (this.data.watchers ?? []).filter((w) => w !== this.me().username);
    clear(
      this.body,
      this.meta,
      watchers.length ? el("p", { className: "hint" }, `Also reading: ${watchers.join(", ")}`) : null,
      this.flagsBox,
      this.controls,
      el("h3", {}, "Transcript"),
      this.list,
    );
    this.renderFlags();
    this.renderControls();
    this.renderTurns();
  }

  renderFlags() {
    const flags = this.data.flags ?? [];
    clear(this.flagsBox, flags.length
      ? el("ul", { className: "flag-list", "aria-label": "Flags" },
        flags.map((f) => el("li", { className: "flag", dataset: { kind: f.kind } },
          FLAGS[f.kind] ?? f.kind, f.detail ? el("span", { className: "flag-detail" }, ` (${f.detail})`) : null)))
      : null);
  }

  renderTurns() {
    clear(this.list, (this.data.turns ?? []).map((t) => this.turnItem(t)));
  }

  turnItem(t) {
    const meta = [];
    if (t.speaker === "citizen") {
      if (t.kind) meta.push(`decision: ${t.kind}`);
      if (t.faq_id) meta.push(`FAQ ${t.faq_id}`);
      // a confidence belongs to an answer: for "I don't know" or a refusal it is only the
      // nearest entry's, and 0.97 there reads as a near miss (the uncovered rule overrules it)
      if (t.confidence != null && t.kind === "faq") meta.push(`confidence ${Number(t.confidence).toFixed(2)}`);
      if (t.stt_probability != null) meta.push(`heard ${Math.round(t.stt_probability * 100)} %`);
    } else {
      if (t.faq_id) meta.push(`FAQ ${t.faq_id}${t.faq_version ? ` v${t.faq_version}` : ""}`);
      if (t.confidence != null && t.speaker === "assistant" && t.faq_id) meta.push(`confidence ${Number(t.confidence).toFixed(2)}`);
      if (t.mode) meta.push(`mode ${t.mode}`);
      if (t.voice) meta.push(`voice ${t.voice}`);
      if (t.cancelled) meta.push("interrupted");
    }
    const stages = [["STT", t.stt_ms], ["language", t.lid_ms], ["retrieval", t.retrieval_ms],
      ["first audio", t.first_audio_ms], ["total", t.total_ms]].filter(([, v]) => v != null);
    const who = t.speaker === "staff" && t.staff ? `Staff (${t.staff})` : SPEAKER[t.speaker] ?? t.speaker;
    const item = el("li", { className: `turn turn-${t.speaker}` },
      el("p", { className: "turn-who" }, el("strong", {}, who), ` · ${clock(t.at)}`,
        t.language ? ` · ${languageName(t.language)}` : ""),
      el("p", { className: "turn-text", ...langAttrs(t.language) }, t.text || "…"),
      meta.length ? el("p", { className: "turn-meta" }, meta.join(" · ")) : null,
      stages.length ? el("p", { className: "turn-meta" }, "Latency: ",
        stages.map(([k, v]) => `${k} ${ms(v)}`).join(" · ")) : null);
    // FAQ answers can be rated (the rating goes to that entry's editors); "no answer" replies
    // already reach them as unanswered questions.
    if (t.speaker === "assistant" && t.turn_id && t.text && t.faq_id) item.append(this.rateForm(t));
    return item;
  }

  rateForm(t) {
    const id = `rate-${String(t.id ?? t.turn_id).replace(/[^\w-]/g, "")}`;
    const select = el("select", { id: `${id}-r` },
      el("option", { value: "good" }, "Good"),
      el("option", { value: "wrong" }, "Wrong"),
      el("option", { value: "incomplete" }, "Incomplete"));
    const note = el("input", { id: `${id}-n`, type: "text", maxlength: "500" });
    const status = el("span", { className: "hint", role: "status" });
    const form = el("form", { className: "rate-form" },
      el("label", { for: `${id}-r` }, "Rating"), select,
      el("label", { for: `${id}-n` }, "Note"), note,
      el("button", { type: "submit", className: "btn" }, "Save rating"), status);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await this.api.rate({ session_id: this.id, turn_id: t.turn_id, rating: select.value, note: note.value });
        status.textContent = "Saved: the content team sees it in their inbox.";
        note.value = "";
      } catch (err) {
        status.textContent = err.message;
      }
    });
    return el("details", { className: "rate" }, el("summary", {}, "Rate this answer"), form);
  }

  renderControls() {
    const h = this.handoff;
    if (!this.controls) return;
    if (!h || !this.data.live) {
      clear(this.controls);
      return;
    }
    const state = el("p", { className: "handoff-state", dataset: { state: h.state } },
      el("strong", {}, `Hand-off: ${HANDOFF_STATES[h.state] ?? h.state}`),
      h.staff ? ` · held by ${h.staff}` : "", h.position ? ` · position ${h.position}` : "",
      h.question ? el("span", { className: "muted" }, " · asked: ",
        el("span", langAttrs(h.language), h.question)) : null);
    if (h.state === "waiting") {
      clear(this.controls, state, el("button", {
        type: "button", className: "btn btn-primary", onclick: () => this.accept(h.id),
      }, "Accept this hand-off"));
      return;
    }
    if (h.staff !== this.me().username) {
      clear(this.controls, state);
      return;
    }
    clear(this.controls, state, this.answerPicker(h), this.typedMessage(h), this.endButtons(h));
  }

  answerPicker(h) {
    const search = el("input", { id: "answer-q", type: "search", maxlength: "100" });
    const select = el("select", { id: "answer-pick", size: "5" });
    const preview = el("p", { className: "answer-preview", id: "answer-preview", ...langAttrs(h.language) });
    let asked = 0; // typing sends a search per key: only the latest answer is shown
    const load = async () => {
      const mine = ++asked;
      try {
        const answers = await this.api.answers(h.language, search.value.trim());
        if (mine !== asked) return;
        const chosen = select.value; // a list that arrives after the choice must not undo it
        clear(select, answers.map((a) => el("option", { value: a.faq_id, dataset: { answer: a.answer } },
          `${a.faq_id} — ${a.question}`)));
        if (answers.some((a) => a.faq_id === chosen)) select.value = chosen;
        preview.textContent = select.selectedOptions[0]?.dataset.answer ?? "";
      } catch (err) {
        this.onError(err);
      }
    };
    search.addEventListener("input", () => load());
    select.addEventListener("change", () => {
      preview.textContent = select.selectedOptions[0]?.dataset.answer ?? "";
    });
    const form = el("form", { className: "send-answer" },
      el("label", { for: "answer-q" }, `Find a published answer (sent in ${languageName(h.language)})`), search,
      el("label", { for: "answer-pick" }, "Answers"), select, preview,
      el("button", { type: "submit", className: "btn btn-primary" }, "Send this answer"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (select.value) this.send(h.id, { faq_id: select.value });
    });
    load();
    return el("div", { className: "send-box" }, el("h3", {}, "Send a published answer"), form);
  }

  typedMessage(h) {
    const text = el("textarea", { id: "typed", rows: "3", maxlength: "1000" });
    const form = el("form", { className: "send-typed" },
      el("label", { for: "typed" }, "Type a message (spoken by the avatar, shown as from staff)"), text,
      el("button", { type: "submit", className: "btn btn-primary" }, "Send message"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (text.value.trim() && (await this.send(h.id, { text: text.value.trim() }))) text.value = "";
    });
    return el("div", { className: "send-box" }, el("h3", {}, "Type a message"), form);
  }

  endButtons(h) {
    const outcome = el("select", { id: "outcome" },
      Object.entries(OUTCOMES).map(([v, label]) => el("option", { value: v }, label)));
    return el("div", { className: "end-box" },
      el("button", { type: "button", className: "btn", onclick: () => this.giveBack(h.id) }, "Hand back to the assistant"),
      el("label", { for: "outcome" }, "Outcome"), outcome,
      el("button", { type: "button", className: "btn btn-danger", onclick: () => this.close(h.id, outcome.value) }, "Close hand-off"));
  }

  // --- actions -----------------------------------------------------------------------------
  async accept(id) {
    try {
      this.handoff = await this.api.accept(id);
      this.announce("Hand-off accepted: you hold this conversation.");
      this.renderControls();
      this.controls.querySelector("#answer-q")?.focus();
    } catch (err) {
      this.onError(err);
    }
  }

  async send(id, message) {
    try {
      const sent = await this.api.send(id, message);
      this.announce(`Sent: ${sent.text}`);
      return true;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }

  async giveBack(id) {
    try {
      await this.api.giveBack(id);
      this.announce("Handed back to the assistant.");
    } catch (err) {
      this.onError(err);
    }
  }

  async close(id, outcome) {
    try {
      await this.api.close(id, outcome);
      this.announce("Hand-off closed.");
    } catch (err) {
      this.onError(err);
    }
  }
}
