// History (search past conversations by date, location, language, FAQ entry, flag, outcome)
// and, for supervisors, the audit log (who viewed which conversation, who sent what).

import { LANGUAGES } from "./i18n.js";
import {
  FLAGS, SESSION_OUTCOMES, clear, dateTime, el, isoDay, langAttrs, languageName,
} from "./console-format.js";

function field(id, label, control) {
  control.id = id;
  return el("div", { className: "field" }, el("label", { for: id }, label), control);
}

function options(map, all) {
  return [el("option", { value: "" }, all), ...Object.entries(map).map(([v, l]) => el("option", { value: v }, l))];
}

function lastWeek() {
  const until = new Date();
  const since = new Date(until.getTime() - 6 * 86400000);
  return [isoDay(since), isoDay(until)];
}

export class HistoryView {
  constructor(root, api, { open, onError }) {
    this.root = root;
    this.api = api;
    this.open = open;
    this.onError = onError;
    const [since, until] = lastWeek();
    this.f = {
      since: el("input", { type: "date", value: since, required: true }),
      until: el("input", { type: "date", value: until, required: true }),
      location: el("input", { type: "text", maxlength: "100" }),
      language: el("select", {}, options(Object.fromEntries(LANGUAGES.map((l) => [l.code, l.name])), "Any language")),
      faq_id: el("input", { type: "text", maxlength: "100" }),
      flag: el("select", {}, options(FLAGS, "Any flag")),
      outcome: el("select", {}, options(SESSION_OUTCOMES, "Any outcome")),
    };
    const form = el("form", { className: "filters" },
      field("h-since", "From", this.f.since), field("h-until", "To", this.f.until),
      field("h-location", "Location", this.f.location), field("h-language", "Language", this.f.language),
      field("h-faq", "FAQ entry id", this.f.faq_id), field("h-flag", "Flag", this.f.flag),
      field("h-outcome", "Outcome", this.f.outcome),
      el("button", { type: "submit", className: "btn btn-primary" }, "Search"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.load();
    });
    this.status = el("p", { className: "hint", role: "status" });
    this.table = el("table", { className: "data" });
    clear(root,
      el("h1", { id: "history-title", tabindex: "-1" }, "History"),
      el("p", { className: "muted" }, "Supervisors see every conversation; staff see those they handled."),
      form, this.status, el("div", { className: "table-wrap" }, this.table));
  }

  async load() {
    const filters = Object.fromEntries(Object.entries(this.f).map(([k, c]) => [k, c.value.trim()]));
    try {
      const rows = await this.api.history(filters);
      this.status.textContent = `${rows.length} conversation${rows.length === 1 ? "" : "s"} found.`;
      clear(this.table,
        el("caption", { className: "visually-hidden" }, "Conversations found"),
        el("thead", {}, el("tr", {}, ["Started", "Where", "Language", "Questions", "Outcome", "Flags", "Last question", ""]
          .map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows.map((r) => el("tr", {},
          el("td", {}, dateTime(r.started_at)),
          el("td", {}, [r.source !== "unknown" ? r.source : "", r.location].filter(Boolean).join(" · ") || "–"),
          el("td", {}, languageName(r.language)),
          el("td", {}, `${r.answered}/${r.questions}`),
          el("td", {}, [SESSION_OUTCOMES[r.outcome] ?? r.outcome ?? "live", ...r.handoff_outcomes.map((o) => SESSION_OUTCOMES[o] ?? o)].join(", ")),
          el("td", {}, r.flags.map((f) => FLAGS[f] ?? f).join(", ") || "–"),
          el("td", langAttrs(r.language), r.last_question ?? ""),
          el("td", {}, el("button", { type: "button", className: "btn", onclick: () => this.open(r.id), "aria-label": `Open conversation ${r.id}` }, "Open"))))));
    } catch (err) {
      this.onError(err);
    }
  }
}

export class AuditView {
  constructor(root, api, { onError }) {
    this.root = root;
    this.api = api;
    this.onError = onError;
    const [since, until] = lastWeek();
    this.since = el("input", { type: "date", value: since });
    this.until = el("input", { type: "date", value: until });
    const form = el("form", { className: "filters" },
      field("a-since", "From", this.since), field("a-until", "To", this.until),
      el("button", { type: "submit", className: "btn btn-primary" }, "Show"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.load();
    });
    this.table = el("table", { className: "data" });
    clear(root, el("h1", { id: "audit-title", tabindex: "-1" }, "Audit log"),
      el("p", { className: "muted" }, "Who opened which conversation, and what staff sent to citizens."),
      form, el("div", { className: "table-wrap" }, this.table));
  }

  async load() {
    try {
      const rows = await this.api.audit(this.since.value, this.until.value);
      clear(this.table,
        el("caption", { className: "visually-hidden" }, "Audit records"),
        el("thead", {}, el("tr", {}, ["When", "Who", "Action", "Conversation", "Detail"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows.map((r) => el("tr", {},
          el("td", {}, dateTime(r.at)), el("td", {}, r.username), el("td", {}, r.action),
          el("td", {}, r.session_id ?? "–"), el("td", {}, r.detail || "")))));
    } catch (err) {
      this.onError(err);
    }
  }
}
