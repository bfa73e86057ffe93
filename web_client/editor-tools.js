// "Try a question", the inbox of unanswered questions, and import / export.

import { LANGUAGES } from "./i18n.js";
import { ask, clear, el, field, languageName, say, setLang } from "./editor-dom.js";
import { formatTime, t } from "./editor-i18n.js";
import { RatingsList } from "./editor-ratings.js";

const fixed = (x, n = 3) => (x == null ? t("none") : Number(x).toFixed(n));

function languageOptions(withAuto) {
  return [
    withAuto ? el("option", { value: "" }, t("auto_detect")) : null,
    LANGUAGES.map((l) => el("option", { value: l.code }, `${l.code} — ${languageName(l.code)}`)),
  ];
}

// --- try a question ------------------------------------------------------------------------
export class TryView {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.text = el("textarea", { id: "try-text", rows: 2, maxlength: 500, dir: "auto", required: true });
    this.lang = el("select", { id: "try-lang" }, languageOptions(true));
    this.msg = el("div", { className: "msg", id: "try-msg", hidden: true });
    this.result = el("section", { className: "try-result", id: "try-result", hidden: true, "aria-live": "polite" });
    clear(
      root,
      el("h1", { id: "try-title", tabindex: "-1" }, t("try_title")),
      el("p", { className: "muted" }, t("try_lead")),
      el(
        "form",
        { className: "try-form", id: "try-form", onsubmit: (e) => { e.preventDefault(); this.go(); } },
        el("div", { className: "field grow" }, el("label", { for: "try-text" }, t("try_text")), this.text),
        el("div", { className: "field" }, el("label", { for: "try-lang" }, t("try_lang")), this.lang),
        el("button", { type: "submit", className: "btn btn-primary", id: "try-go" }, t("try_go")),
      ),
      this.msg,
      this.result,
    );
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.go();
      }
    });
  }

  async go() {
    const text = this.text.value.trim();
    if (!text) return this.text.focus();
    say(this.msg, "info", t("loading"));
    try {
      const out = await this.api.tryQuestion(text, this.lang.value || null);
      say(this.msg, "info", "");
      this.show(out);
    } catch (err) {
      say(this.msg, "error", err.message, err.problems);
    }
  }

  show(out) {
    const answerNode = el("p", { className: "answer-text", id: "try-answer" }, out.answer ?? t("none"));
    if (out.answer) setLang(answerNode, out.language);
    const prob = out.language_probability != null ? ` · p=${fixed(out.language_probability, 2)}` : "";
    const sc = out.screening ?? {};
    const screening = [
      sc.injection ? `injection: ${sc.injection}` : null,
      sc.domain != null ? `domain ${fixed(sc.domain)}` : null,
      sc.intent ? `intent ${sc.intent} (${fixed(sc.intent_score)})` : null,
      sc.classified ? `class ${sc.classified} (p=${fixed(sc.classified_p, 2)})` : null,
    ].filter(Boolean).join(" · ") || t("none");
    const row = (label, ...value) => [el("dt", {}, label), el("dd", {}, ...value)];
    clear(
      this.result,
      el(
        "dl",
        { className: "facts", id: "try-facts" },
        row(t("detected"), el("span", { id: "try-language" }, `${out.language} — ${languageName(out.language)}`), `${prob} · ${out.language_source}`),
        row(t("decision"), el("strong", { id: "try-kind", dataset: { kind: out.kind } }, out.kind), out.handoff ? ` · ${t("handoff")}` : ""),
        row(t("chosen"), out.faq_id ? el("a", { href: `#/entry/${encodeURIComponent(out.faq_id)}`, id: "try-faq" }, out.faq_id) : t("none"),
          out.confidence != null ? ` · ${t("confidence")} ${fixed(out.confidence)}` : ""),
        row(t("answer_given"), answerNode),
        row(t("screening"), screening),
      ),
      el("h2", { id: "ranking-title" }, t("ranking")),
      el(
        "table",
        { className: "data-table", id: "try-ranking", "aria-labelledby": "ranking-title" },
        el("thead", {}, el("tr", {}, [t("rank"), t("entry"), t("score"), t("question_score"), t("matched"), t("lexical")].map((h) => el("th", { scope: "col" }, h)))),
        el(
          "tbody",
          {},
          out.ranking.map((h, i) => {
            const matched = el("td", { className: "matched" }, h.matched_text);
            if (LANGUAGES.some((l) => l.code === h.matched_lang)) setLang(matched, h.matched_lang);
            return el(
              "tr",
              { dataset: { entry: h.entry_id } },
              el("td", {}, String(i + 1)),
              el("td", {}, el("a", { href: `#/entry/${encodeURIComponent(h.entry_id)}` }, h.entry_id), el("br"), el("span", { className: "muted" }, h.topic)),
              el("td", { className: "num" }, fixed(h.score)),
              el("td", { className: "num" }, fixed(h.question_score)),
              matched,
              el("td", { className: "num" }, h.lexical_rank ?? t("none")),
            );
          }),
        ),
      ),
    );
    this.result.hidden = false;
  }
}

// --- inbox ---------------------------------------------------------------------------------
export class InboxView {
  constructor(root, api, { navigate, entries }) {
    this.root = root;
    this.api = api;
    this.navigate = navigate;
    this.entries = entries; // async () => [EntrySummary]
    this.status = el("select", { id: "inbox-status", onchange: () => this.load() },
      ["open", "dismissed", "resolved"].map((s) => el("option", { value: s }, t(`c_${s}`))));
    this.msg = el("div", { className: "msg", id: "inbox-msg", hidden: true });
    this.list = el("ol", { className: "clusters", id: "clusters" });
    clear(
      root,
      el("h1", { id: "inbox-title", tabindex: "-1" }, t("inbox_title")),
      el("p", { className: "muted" }, t("inbox_lead")),
      el("div", { className: "toolbar" }, el("div", { className: "field" }, el("label", { for: "inbox-status" }, t("inbox_status")), this.status)),
      this.msg,
      this.list,
    );
    this.ratings = new RatingsList(api, { navigate }); // console ratings (editor-ratings.js)
    root.append(this.ratings.section);
  }

  async load() {
    this.ratings.load();
    try {
      const clusters = await this.api.inbox(this.status.value);
      clear(this.list, clusters.length ? clusters.map((c) => this.card(c)) : el("li", { className: "muted" }, t("inbox_empty")));
    } catch (err) {
      say(this.msg, "error", err.message);
    }
  }

  card(c) {
    const open = c.status === "open";
    const best = c.questions.find((q) => q.best_entry)?.best_entry ?? "";
    const button = (key, cls, fn) =>
      el("button", { type: "button", className: `btn btn-small ${cls}`, onclick: () => fn.call(this, c, best) }, t(key));
    return el(
      "li",
      { className: "cluster card", dataset: { cluster: c.id } },
      el("h2", {}, t("cluster", { id: c.id }), " · ", t(c.size === 1 ? "cluster_size_one" : "cluster_size", { n: c.size })),
      el(
        "p",
        { className: "muted" },
        t("cluster_langs", { langs: c.languages.join(", ") }),
        c.flagged ? ` · ${t("cluster_flagged", { n: c.flagged })}` : "",
        c.entry_id ? ` · ${t("cluster_entry", { id: c.entry_id })}` : "",
        ` · ${formatTime(c.updated_at)}`,
      ),
      el(
        "ul",
        { className: "questions" },
        c.questions.map((q) => {
          const text = el("span", { className: "q-text" }, q.text);
          if (LANGUAGES.some((l) => l.code === q.language)) setLang(text, q.language);
          return el(
            "li",
            { dataset: { kind: q.kind } },
            el("span", { className: "q-lang" }, q.language),
            text,
            el("span", { className: "muted q-meta" }, whatHappened(q)),
          );
        }),
      ),
      open
        ? el("div", { className: "buttons" },
            button("new_from", "btn-primary new-from", this.newEntry),
            button("add_paraphrases", "btn-secondary add-paraphrases", this.paraphrase),
            button("dismiss", "btn-quiet dismiss", this.dismiss))
        : null,
    );
  }

  async newEntry(c) {
    const id = el("input", { name: "entry_id", type: "text", maxlength: 80, pattern: "[a-z0-9]([a-z0-9\\-]*[a-z0-9])?" });
    const topic = el("input", { name: "topic", type: "text", maxlength: 80, value: "unsorted", required: true });
    const data = await ask(t("new_from_title", { id: c.id }), [field(t("new_id_optional", { id: c.id }), id), field(t("topic"), topic)]);
    if (!data) return;
    try {
      const v = await this.api.newEntryFrom(c.id, String(data.get("entry_id") || "").trim(), String(data.get("topic") || "").trim());
      this.navigate(`#/entry/${encodeURIComponent(v.entry_id)}`);
    } catch (err) {
      say(this.msg, "error", err.message, err.problems);
    }
  }

  async paraphrase(c, best) {
    const entries = (await this.entries()).filter((e) => e.latest_state !== "deleted");
    const select = el("select", { name: "entry_id", required: true },
      entries.map((e) => el("option", { value: e.id, selected: e.id === best }, `${e.id} — ${e.topic}`)));
    const data = await ask(t("paraphrase_title", { id: c.id }), [field(t("paraphrase_target"), select)]);
    if (!data) return;
    try {
      const v = await this.api.paraphraseFrom(c.id, String(data.get("entry_id")));
      this.navigate(`#/entry/${encodeURIComponent(v.entry_id)}`);
    } catch (err) {
      say(this.msg, "error", err.message, err.problems);
    }
  }

  async dismiss(c) {
    try {
      await this.api.dismiss(c.id);
      say(this.msg, "ok", t("dismissed_ok", { id: c.id }));
      await this.load();
    } catch (err) {
      say(this.msg, "error", err.message);
    }
  }
}

// --- import / export -----------------------------------------------------------------------
export class ImportExportView {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.file = el("input", { id: "import-file", type: "file", accept: ".yaml,.yml,.csv,text/yaml,text/csv", onchange: () => this.guessFormat() });
    this.format = el("select", { id: "import-format" }, el("option", { value: "yaml" }, "YAML"), el("option", { value: "csv" }, "CSV"));
    this.msg = el("div", { className: "msg", id: "import-msg", hidden: true });
    const link = (fmt, key) => el("a", { className: "btn btn-secondary", href: `/api/faq/export?format=${fmt}`, download: `faq.${fmt}`, id: `export-${fmt}` }, t(key));
    clear(
      root,
      el("h1", { id: "io-title", tabindex: "-1" }, t("io_title")),
      el("section", { className: "card" }, el("h2", {}, t("export_title")), el("div", { className: "buttons" }, link("yaml", "export_yaml"), link("csv", "export_csv"))),
      el(
        "section",
        { className: "card" },
        el("h2", {}, t("import_title")),
        el("p", { className: "muted" }, t("import_lead")),
        el(
          "form",
          { id: "import-form", className: "toolbar", onsubmit: (e) => { e.preventDefault(); this.go(); } },
          el("div", { className: "field grow" }, el("label", { for: "import-file" }, t("import_file")), this.file),
          el("div", { className: "field" }, el("label", { for: "import-format" }, t("import_format")), this.format),
          el("button", { type: "submit", className: "btn btn-primary", id: "import-go" }, t("import_go")),
        ),
        this.msg,
      ),
    );
  }

  guessFormat() {
    const name = this.file.files[0]?.name.toLowerCase() ?? "";
    if (name.endsWith(".csv")) this.format.value = "csv";
    else if (name.endsWith(".yaml") || name.endsWith(".yml")) this.format.value = "yaml";
  }

  async go() {
    const file = this.file.files[0];
    if (!file) return say(this.msg, "error", t("import_none"));
    say(this.msg, "info", t("loading"));
    try {
      const out = await this.api.importFile(this.format.value, await file.text());
      say(this.msg, "ok", t("import_ok", { n: out.created.length }));
      this.msg.append(el("ul", {}, out.created.map((v) =>
        el("li", {}, el("a", { href: `#/entry/${encodeURIComponent(v.entry_id)}` }, v.entry_id), ` v${v.version}`))));
    } catch (err) {
      const d = err.data ?? {};
      const where = d.line != null && d.field ? t("import_where", { line: d.line, field: d.field })
        : d.line != null ? t("import_line", { line: d.line })
        : d.field ? t("import_field", { field: d.field }) : "";
      const said = where && err.message.toLowerCase().startsWith(where.toLowerCase()) ? "" : where;
      say(this.msg, "error", err.message, [said, ...err.problems.filter((p) => p !== err.message)].filter(Boolean));
    }
  }
}

/** "not answered · nearest entry X, not used": a no_answer's nearest entry has a confidence
 * that reads like a near miss (0.97 for a question the uncovered rule kept from it), so it is
 * shown only for an answer that was given. */
function whatHappened(q) {
  const kind = t(`q_kind_${q.kind}`);
  if (!q.best_entry) return kind;
  const entry = q.kind === "faq"
    ? t("answered_with", { id: q.best_entry, score: fixed(q.confidence, 2) })
    : t("nearest_unused", { id: q.best_entry });
  return `${kind} · ${entry}`;
}
