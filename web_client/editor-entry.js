// One entry: metadata, the pt source next to the selected language, the workflow buttons,
// the 409 conflict view, the version history and the audit trail.

import { LANGUAGES } from "./i18n.js";
import { ask, chip, clear, el, field, languageName, say, setLang, stateBadge } from "./editor-dom.js";
import { buildEntryView } from "./editor-form.js";
import { ROLE_RANK, t } from "./editor-i18n.js";
import { combine, renderAudit, renderConflict, renderHistory } from "./editor-history.js";

const CODES = LANGUAGES.map((l) => l.code);
const ANSWER_LIMIT = 700; // faq_validate: longer answers do not publish

function emptyLanguage() {
  return { status: "draft", question: "", paraphrases: [], answer: "" };
}

function emptyBody() {
  return {
    id: "",
    topic: "",
    owner: "",
    sources: [],
    languages: Object.fromEntries(CODES.map((c) => [c, emptyLanguage()])),
  };
}

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
const copy = (body) => JSON.parse(JSON.stringify(body));

export class EntryEditor {
  constructor(root, api, { me, navigate }) {
    this.root = root;
    this.api = api;
    this.me = me;
    this.navigate = navigate;
    this.lang = "en";
    this.detail = null;
    this.work = null;
    this.baseJson = "";
  }

  get canReview() {
    return (ROLE_RANK[this.me().role] ?? -1) >= ROLE_RANK.reviewer;
  }

  get latest() {
    return this.detail?.latest ?? null;
  }

  get dirty() {
    return this.work != null && JSON.stringify(this.work) !== this.baseJson;
  }

  // --- loading ---------------------------------------------------------------------------
  async open(id, lang) {
    if (lang && CODES.includes(lang)) this.lang = lang;
    this.id = id;
    this.build();
    if (id == null) {
      this.detail = null;
      this.setWork(emptyBody());
      this.render();
      this.refs.idInput.focus();
      return;
    }
    say(this.refs.msg, "info", t("loading"));
    await this.reload();
    this.refs.heading.focus();
  }

  async reload({ keepMessage = false } = {}) {
    try {
      this.detail = await this.api.entry(this.id);
    } catch (err) {
      say(this.refs.msg, "error", err.message);
      return;
    }
    if (!keepMessage) say(this.refs.msg, "info", "");
    this.setWork(this.latest.body);
    this.render();
    this.loadHistory();
  }

  setWork(body) {
    const work = { ...emptyBody(), ...copy(body) };
    this.baseJson = JSON.stringify(work);
    this.work = work;
  }

  async loadHistory() {
    const id = this.id;
    try {
      const [versions, audit] = await Promise.all([this.api.versions(id), this.api.audit(id)]);
      if (id !== this.id) return;
      renderHistory(this.refs.history, versions, {
        latest: this.latest.version,
        canRollback: this.canReview,
        onRollback: (v) => this.rollback(v),
      });
      renderAudit(this.refs.audit, audit);
    } catch (err) {
      say(this.refs.msg, "error", err.message);
    }
  }

  // --- the form --------------------------------------------------------------------------
  build() {
    this.refs = buildEntryView(this.root, {
      onInput: () => this.fromForm(),
      onPick: (code) => this.pick(code),
      onSave: () => this.save(),
      onSubmit: () => this.submitForReview(),
      onPublish: () => this.publish(),
      onReject: () => this.reject(),
      onDelete: () => this.remove(),
    });
  }

  /** Everything from the work copy into the form (on open, after a save, on a language switch). */
  render() {
    const r = this.refs;
    const w = this.work;
    const isNew = this.detail == null;
    r.heading.textContent = isNew ? t("new_entry_title") : t("entry_title", { id: this.id });
    r.idField.hidden = !isNew;
    r.idInput.value = w.id;
    r.topic.value = w.topic;
    r.owner.value = w.owner;
    r.sources.value = (w.sources ?? []).join("\n");
    this.renderStatus();
    this.renderSource();
    this.renderTarget();
    this.renderButtons();
    if (isNew) {
      clear(r.history);
      clear(r.audit);
    }
  }

  renderStatus() {
    const v = this.latest;
    const parts = v
      ? [
          stateBadge(v.state),
          ` ${t("version_line", { v: v.version })}`,
          v.base_version != null ? ` · ${t("based_on", { v: v.base_version })}` : "",
          ` · ${this.detail.published_version != null ? t("published_line", { v: this.detail.published_version }) : t("not_published")}`,
          ` · ${t("by", { who: v.author })}`,
        ]
      : [stateBadge("new")];
    clear(this.refs.status, parts, this.dirty ? el("span", { className: "unsaved", id: "unsaved" }, t("unsaved")) : null);
  }

  renderSource() {
    const pt = this.work.languages.pt ?? emptyLanguage();
    const r = this.refs;
    r.sQuestion.textContent = pt.question || t("none");
    clear(r.sParaphrases, (pt.paraphrases.length ? pt.paraphrases : [t("none")]).map((p) => el("li", {}, p)));
    r.sAnswer.textContent = pt.answer || t("none");
  }

  renderTarget() {
    const r = this.refs;
    const code = this.lang;
    const loc = this.work.languages[code] ?? emptyLanguage();
    const statusOf = (c) => this.work.languages[c]?.status ?? "missing";
    clear(
      r.langPick,
      CODES.map((c) =>
        el("option", { value: c, selected: c === code }, `${c} — ${languageName(c)} (${t(`st_${statusOf(c)}`)})`),
      ),
    );
    r.langPick.value = code;
    clear(r.chips, CODES.map((c) => chip(c, statusOf(c), { button: true, pressed: c === code, onclick: () => this.pick(c) })));
    for (const node of [r.target, r.tQuestion, r.tParaphrases, r.tAnswer]) setLang(node, code);
    r.target.dataset.lang = code;
    r.tQuestion.value = loc.question;
    r.tParaphrases.value = loc.paraphrases.join("\n");
    r.tAnswer.value = loc.answer;
    r.tStatus.value = loc.status;
    this.renderReview(code);
    this.renderCount();
  }

  /** The language's review record, read-only: only publishing by a second person sets it. */
  renderReview(code) {
    const published = this.detail?.published?.body?.languages?.[code];
    const loc = this.work.languages[code];
    const same = published && loc && ["status", "question", "answer"].every((k) => published[k] === loc[k]);
    this.refs.tReview.textContent = same && published.last_reviewed
      ? t("reviewed_on", { date: published.last_reviewed, who: published.reviewed_by })
      : t("never_reviewed");
  }

  renderCount() {
    const n = this.refs.tAnswer.value.length;
    this.refs.tCount.textContent = t("chars", { n, max: ANSWER_LIMIT });
    this.refs.tCount.classList.toggle("over", n > ANSWER_LIMIT);
  }

  renderButtons() {
    const r = this.refs;
    const v = this.latest;
    const state = v?.state;
    const review = this.canReview;
    r.save.disabled = Boolean(v) && !this.dirty && state !== "deleted"; // nothing to save
    r.submit.disabled = !v || state !== "draft";
    r.publish.disabled = !review || state !== "review" || this.dirty;
    r.reject.disabled = !review || !(state === "draft" || state === "review");
    r.remove.disabled = !review || !v || state === "deleted";
    r.roleHint.hidden = review;
    r.roleHint.textContent = review ? "" : t("role_hint", { role: this.me().role });
  }

  /** The form into the work copy (on every input). */
  fromForm() {
    const r = this.refs;
    const w = this.work;
    if (this.detail == null) w.id = r.idInput.value.trim();
    w.topic = r.topic.value;
    w.owner = r.owner.value;
    w.sources = lines(r.sources.value);
    const typed = {
      status: r.tStatus.value,
      question: r.tQuestion.value,
      paraphrases: lines(r.tParaphrases.value),
      answer: r.tAnswer.value,
    };
    const blank = !typed.question && !typed.answer && !typed.paraphrases.length && typed.status === "draft";
    if (!w.languages[this.lang] && blank) {
      this.renderStatus();
      this.renderButtons();
      return; // a language the entry lacks is only added once something is typed in it
    }
    const loc = (w.languages[this.lang] ??= emptyLanguage());
    const statusChanged = loc.status !== typed.status;
    Object.assign(loc, typed);
    if (this.lang === "pt") this.renderSource();
    if (statusChanged) {
      const chipNode = r.chips.querySelector(`[data-lang="${this.lang}"]`);
      chipNode?.replaceWith(chip(this.lang, loc.status, { button: true, pressed: true, onclick: () => this.pick(this.lang) }));
      r.langPick.selectedOptions[0].textContent = `${this.lang} — ${languageName(this.lang)} (${t(`st_${loc.status}`)})`;
    }
    this.renderCount();
    this.renderStatus();
    this.renderButtons();
  }

  pick(code) {
    if (!CODES.includes(code)) return;
    const chipHadFocus = this.refs.chips.contains(document.activeElement);
    this.lang = code;
    this.renderTarget();
    if (chipHadFocus) this.refs.chips.querySelector(`[data-lang="${code}"]`)?.focus();
  }

  // --- actions ---------------------------------------------------------------------------
  /** Run one server call at a time; errors go to the message region. */
  async run(fn) {
    if (this.busy) return null;
    this.busy = true;
    this.root.setAttribute("aria-busy", "true");
    try {
      return await fn();
    } catch (err) {
      this.fail(err);
      return null;
    } finally {
      this.busy = false;
      this.root.removeAttribute("aria-busy");
    }
  }

  fail(err) {
    if (err.status === 401) return; // the API client shows the login form
    if (err.code === "conflict" && err.data.current) {
      say(this.refs.msg, "error", err.message);
      return this.showConflict(err.data.current);
    }
    const problems = err.problems.filter((p) => p !== err.message);
    const lead = err.problems.length ? `${t("validation_failed")} ${err.message}` : err.message;
    say(this.refs.msg, "error", lead, problems);
  }

  async save() {
    const ok = await this.run(async () => {
      this.fromForm();
      const note = this.refs.note.value.trim();
      if (this.detail == null) {
        if (!this.work.id) {
          say(this.refs.msg, "error", t("id_required"));
          this.refs.idInput.focus();
          return false;
        }
        const v = await this.api.create(this.work, note);
        this.id = v.entry_id;
        this.navigate(`#/entry/${encodeURIComponent(v.entry_id)}`, { quiet: true });
        await this.afterWrite(t("created", { id: v.entry_id, v: v.version }));
        return true;
      }
      const v =
        this.latest.state === "deleted"
          ? await this.api.create(this.work, note)
          : await this.api.update(this.id, this.latest.version, this.work, note);
      await this.afterWrite(t("saved", { v: v.version }));
      return true;
    });
    return Boolean(ok);
  }

  async afterWrite(message) {
    this.refs.note.value = "";
    this.refs.conflict.hidden = true;
    await this.reload({ keepMessage: true });
    say(this.refs.msg, "ok", message);
  }

  showConflict(current) {
    renderConflict(this.refs.conflict, {
      current,
      yours: this.work,
      base: this.latest?.body,
      baseVersion: this.latest?.version,
      onKeepMine: () => this.keepMine(current),
      onCombine: () => this.keepMine(current, combine(current.body, this.work, this.latest?.body)),
      onTakeTheirs: () => this.takeTheirs(current),
    });
  }

  /** Save yours (or `body`) as a new draft on top of the server's current version. */
  async keepMine(current, body = null) {
    await this.run(async () => {
      this.fromForm();
      const v = await this.api.update(this.id, current.version, body ?? this.work, this.refs.note.value.trim());
      await this.afterWrite(t("saved", { v: v.version }));
    });
  }

  async takeTheirs(current) {
    const sure = await ask(t("confirm_discard", { v: current.version }), [], { okLabel: t("take_theirs", { v: current.version }), danger: true });
    if (!sure) return;
    this.refs.conflict.hidden = true;
    say(this.refs.msg, "info", "");
    await this.reload();
  }

  async submitForReview() {
    if (this.dirty && !(await this.save())) return;
    await this.run(async () => {
      const v = await this.api.act(this.id, "submit", this.latest.version);
      await this.afterWrite(t("submitted", { v: v.version }));
    });
  }

  async publish() {
    await this.run(async () => {
      const v = await this.api.act(this.id, "publish", this.latest.version, this.refs.note.value.trim());
      await this.afterWrite(t("published_ok", { v: v.version }));
    });
  }

  async reject() {
    const note = el("input", { type: "text", name: "note", maxlength: 500 });
    const data = await ask(t("reject"), [field(t("reject_note"), note)], { okLabel: t("reject"), danger: true });
    if (!data) return;
    await this.run(async () => {
      const v = await this.api.act(this.id, "reject", this.latest.version, String(data.get("note") ?? ""));
      await this.afterWrite(t("rejected_ok", { v: v.version }));
    });
  }

  async remove() {
    const data = await ask(t("confirm_delete", { id: this.id }), [], { okLabel: t("delete"), danger: true });
    if (!data) return;
    await this.run(async () => {
      await this.api.remove(this.id, this.refs.note.value.trim());
      await this.afterWrite(t("deleted_ok", { id: this.id }));
    });
  }

  async rollback(version) {
    const data = await ask(t("confirm_rollback", { v: version, id: this.id }), [], { okLabel: t("rollback") });
    if (!data) return;
    await this.run(async () => {
      const v = await this.api.act(this.id, "rollback", version, this.refs.note.value.trim());
      await this.afterWrite(t("rolled_back", { v: v.version, from: version }));
    });
  }
}
