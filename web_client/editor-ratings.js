// Ratings of answers in the editor's inbox, next to the unanswered questions: citizens' thumbs
// and staff ratings from the console (GET /api/feedback), each with the FAQ entry and the
// published version that answered, bad ones first. "Done" takes one off the list.

import { clear, el, setLang } from "./editor-dom.js";
import { LANGUAGES } from "./i18n.js";

const RATING = { up: "👍 helpful", down: "👎 not helpful", good: "good", wrong: "wrong", incomplete: "incomplete" };

export class RatingsList {
  constructor(api, { navigate }) {
    this.api = api;
    this.navigate = navigate;
    this.list = el("ol", { className: "rating-list", id: "ratings" });
    this.section = el("section", { className: "ratings", "aria-labelledby": "ratings-title" },
      el("h2", { id: "ratings-title" }, "Ratings of answers"),
      el("p", { className: "muted" }, "Citizens' thumbs and staff ratings, with the entry and version that answered. Bad ones first."),
      this.list);
  }

  async load() {
    let rows = [];
    try {
      rows = await this.api.request("GET", "/api/feedback");
    } catch (err) {
      clear(this.list, el("li", { className: "msg" }, err.message));
      return;
    }
    clear(this.list, rows.length ? rows.map((r) => this.item(r)) : el("li", { className: "muted" }, "No ratings to look at."));
  }

  item(r) {
    const lang = (node) => (LANGUAGES.some((l) => l.code === r.language) ? setLang(node, r.language) : node);
    const who = r.source === "staff" ? `staff (${r.username ?? "?"})` : "citizen";
    return el("li", { className: "rating card", dataset: { rating: r.rating } },
      el("h3", {}, `${RATING[r.rating] ?? r.rating} · ${who}`),
      el("p", { className: "muted" },
        r.faq_id
          ? el("a", { href: `#/entry/${encodeURIComponent(r.faq_id)}` }, `${r.faq_id}${r.faq_version ? ` v${r.faq_version}` : ""}`)
          : "no FAQ entry",
        ` · ${r.language ?? "?"} · ${new Date(r.at * 1000).toLocaleString("en-GB")}`),
      r.question ? lang(el("p", { className: "q-text" }, `Q: ${r.question}`)) : null,
      r.answer ? lang(el("p", { className: "muted" }, `A: ${r.answer}`)) : null,
      r.note ? el("p", {}, `Note: ${r.note}`) : null,
      el("div", { className: "buttons" }, el("button", {
        type: "button", className: "btn btn-small btn-quiet", onclick: () => this.done(r.id),
      }, "Done")));
  }

  async done(id) {
    try {
      await this.api.request("POST", `/api/feedback/${id}/done`, { json: {} });
    } finally {
      this.load();
    }
  }
}
