// The entries list: id, topic, latest state, published version, 20 language chips; a filter
// over ids and topics (at once, in the browser) and over every text (GET /api/faq/search).

import { chipRow, clear, el, legend, say, stateBadge } from "./editor-dom.js";
import { formatTime, t } from "./editor-i18n.js";

const SEARCH_DELAY_MS = 200;

export class EntriesList {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.entries = [];
    this.hits = new Map(); // entry id -> first search hit, for the current query
    this.query = "";
    this.timer = null;
    this.searchSeq = 0;
    this.build();
  }

  build() {
    this.filter = el("input", {
      id: "entry-filter",
      type: "search",
      autocomplete: "off",
      "aria-describedby": "entry-filter-hint",
      oninput: () => this.onQuery(),
    });
    this.stateSelect = el(
      "select",
      { id: "state-filter", onchange: () => this.render() },
      el("option", { value: "" }, t("all_states")),
      ["draft", "review", "published", "rejected", "deleted"].map((s) =>
        el("option", { value: s }, t(`s_${s}`)),
      ),
    );
    this.deleted = el("input", {
      id: "include-deleted",
      type: "checkbox",
      onchange: () => this.load(),
    });
    this.count = el("p", { className: "muted", id: "entry-count", role: "status" });
    this.list = el("ul", { className: "entry-list", id: "entry-list" });
    this.message = el("div", { className: "msg", hidden: true });
    clear(
      this.root,
      el(
        "div",
        { className: "view-head" },
        el("h1", { id: "entries-title", tabindex: "-1" }, t("entries_title")),
        el("a", { className: "btn btn-primary", href: "#/new", id: "new-entry" }, t("new_entry")),
      ),
      el(
        "div",
        { className: "toolbar" },
        el(
          "div",
          { className: "field grow" },
          el("label", { for: "entry-filter" }, t("filter")),
          el("span", { className: "hint", id: "entry-filter-hint" }, t("filter_hint")),
          this.filter,
        ),
        el(
          "div",
          { className: "field" },
          el("label", { for: "state-filter" }, t("state_filter")),
          this.stateSelect,
        ),
        el(
          "div",
          { className: "check" },
          this.deleted,
          el("label", { for: "include-deleted" }, t("include_deleted")),
        ),
      ),
      legend(),
      this.message,
      this.count,
      this.list,
    );
  }

  async load() {
    say(this.message, "info", t("loading"));
    try {
      this.entries = await this.api.entries(this.deleted.checked);
      say(this.message, "info", "");
    } catch (err) {
      say(this.message, "error", err.message);
      return;
    }
    if (this.query.length >= 2) await this.search();
    this.render();
  }

  onQuery() {
    this.query = this.filter.value.trim();
    clearTimeout(this.timer);
    this.hits = new Map();
    this.render();
    if (this.query.length >= 2) {
      this.timer = setTimeout(() => this.search().then(() => this.render()), SEARCH_DELAY_MS);
    }
  }

  async search() {
    const seq = ++this.searchSeq;
    const q = this.query;
    try {
      const hits = await this.api.search(q);
      if (seq !== this.searchSeq) return;
      this.hits = new Map();
      for (const h of hits) if (!this.hits.has(h.entry_id)) this.hits.set(h.entry_id, h);
    } catch {
      // the text search is a bonus: ids and topics are still filtered in the browser
    }
  }

  matches(entry) {
    const state = this.stateSelect.value;
    if (state && entry.latest_state !== state) return false;
    if (!this.query) return true;
    const q = this.query.toLowerCase();
    return (
      entry.id.toLowerCase().includes(q) ||
      entry.topic.toLowerCase().includes(q) ||
      this.hits.has(entry.id)
    );
  }

  render() {
    const shown = this.entries.filter((e) => this.matches(e));
    this.count.textContent = t("count", { shown: shown.length, total: this.entries.length });
    clear(this.list, shown.length ? shown.map((e) => this.row(e)) : el("li", {}, t("no_entries")));
  }

  row(e) {
    const hit = this.hits.get(e.id);
    const where = hit && hit.field !== "id" && hit.field !== "topic" ? hit : null;
    return el(
      "li",
      { className: "entry-row", dataset: { id: e.id, state: e.latest_state } },
      el(
        "div",
        { className: "entry-row-head" },
        el("a", { className: "entry-id", href: `#/entry/${encodeURIComponent(e.id)}` }, e.id),
        el("span", { className: "topic" }, e.topic),
        el(
          "span",
          { className: "meta" },
          `${t("latest")}: `,
          stateBadge(e.latest_state),
          ` v${e.latest_version}`,
        ),
        el(
          "span",
          { className: "meta published-version" },
          `${t("published")}: `,
          e.published_version != null ? `v${e.published_version}` : t("not_published"),
        ),
        el(
          "span",
          { className: "meta muted" },
          t("updated", { when: formatTime(e.updated_at), who: e.author }),
        ),
      ),
      chipRow(e.languages),
      where
        ? el(
            "p",
            { className: "match muted" },
            `${t("matched_in", { where: `${where.language ?? ""} ${where.field}`.trim() })}: `,
            el("q", { lang: where.language ?? null, dir: "auto" }, clip(where.text, 140)),
          )
        : null,
    );
  }
}

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
