// The entry view's DOM: workflow buttons, metadata, the pt source pane (read-only) and the
// pane of the selected language. Returns named references; behaviour is in editor-entry.js.

import { el } from "./editor-dom.js";
import { t } from "./editor-i18n.js";

export const STATUSES = ["draft", "machine-translated", "reviewed"];

/** An English UI label that stays left-to-right inside a right-to-left pane. */
const en = (key) => el("span", { lang: "en", dir: "ltr" }, t(key));

/**
 * h: { onInput(), onPick(code), onSave(), onSubmit(), onPublish(), onReject(), onDelete() }
 */
export function buildEntryView(root, h) {
  const r = {};
  const input = (id, props = {}) =>
    el("input", { id, type: "text", autocomplete: "off", ...props, oninput: h.onInput });
  const labelled = (id, key, control, ...extra) =>
    el("div", { className: "field" }, el("label", { for: id }, t(key)), control, ...extra);

  r.heading = el("h1", { id: "entry-heading", tabindex: "-1" });
  r.status = el("p", { className: "entry-status", id: "entry-status" });
  r.msg = el("div", { className: "msg", id: "entry-msg", hidden: true });
  r.conflict = el("section", { className: "conflict", id: "conflict", hidden: true, "aria-labelledby": "conflict-title" });

  // workflow
  r.note = input("f-note", { maxlength: 500 });
  const button = (id, key, cls, fn) =>
    el("button", { type: "button", id, className: `btn ${cls}`, onclick: fn }, t(key));
  r.save = el("button", { type: "submit", id: "save", className: "btn btn-primary" }, t("save_draft"));
  r.submit = button("submit", "submit", "btn-secondary", h.onSubmit);
  r.publish = button("publish", "publish", "btn-publish", h.onPublish);
  r.reject = button("reject", "reject", "btn-quiet", h.onReject);
  r.remove = button("delete", "delete", "btn-danger", h.onDelete);
  r.roleHint = el("p", { className: "hint role-hint", id: "role-hint" });

  // metadata
  r.idInput = input("f-id", { maxlength: 80, "aria-describedby": "f-id-hint", spellcheck: "false" });
  r.idField = labelled("f-id", "entry_id", r.idInput, el("span", { className: "hint", id: "f-id-hint" }, t("entry_id_hint")));
  r.topic = input("f-topic", { maxlength: 80 });
  r.owner = input("f-owner", { maxlength: 120 });
  r.sources = el("textarea", { id: "f-sources", rows: 2, dir: "ltr", spellcheck: "false", oninput: h.onInput });

  // left: the Portuguese source, read-only
  r.sQuestion = el("p", { id: "s-question", className: "source-text" });
  r.sParaphrases = el("ul", { id: "s-paraphrases", className: "source-list" });
  r.sAnswer = el("p", { id: "s-answer", className: "source-text" });
  r.source = el(
    "section",
    { className: "pane pane-source", id: "pane-source", lang: "pt", dir: "ltr", "aria-labelledby": "pane-source-title" },
    el("h2", { id: "pane-source-title" }, en("source_pane")),
    el("h3", {}, en("question")), r.sQuestion,
    el("h3", {}, en("paraphrases")), r.sParaphrases,
    el("h3", {}, en("answer")), r.sAnswer,
  );

  // right: the selected language (lang and dir are set on the pane and the text fields)
  r.langPick = el("select", { id: "lang-pick", lang: "en", dir: "ltr", onchange: () => h.onPick(r.langPick.value) });
  r.chips = el("div", { className: "chips chip-buttons", role: "group", dir: "ltr", "aria-label": t("lang_status") });
  r.tQuestion = el("input", { id: "t-question", type: "text", maxlength: 500, oninput: h.onInput });
  r.tParaphrases = el("textarea", { id: "t-paraphrases", rows: 6, oninput: h.onInput });
  r.tAnswer = el("textarea", { id: "t-answer", rows: 9, maxlength: 2000, "aria-describedby": "t-answer-count", oninput: h.onInput });
  r.tCount = el("span", { className: "hint", id: "t-answer-count", lang: "en", dir: "ltr" });
  r.tReview = el("span", { className: "hint", id: "t-review", lang: "en", dir: "ltr" });
  r.tStatus = el(
    "select",
    { id: "t-status", lang: "en", dir: "ltr", onchange: h.onInput },
    STATUSES.map((s) => el("option", { value: s }, t(`st_${s}`))),
  );
  const field = (id, key, control, ...extra) =>
    el("div", { className: "field" }, el("label", { for: id }, en(key)), control, ...extra);
  r.target = el(
    "section",
    { className: "pane pane-target", id: "pane-target", "aria-labelledby": "pane-target-title" },
    el("div", { className: "pane-head" },
      el("h2", { id: "pane-target-title" }, en("target_pane")),
      field("lang-pick", "language", r.langPick),
      r.chips),
    field("t-question", "question", r.tQuestion),
    field("t-paraphrases", "paraphrases", r.tParaphrases),
    field("t-answer", "answer", r.tAnswer, r.tCount),
    field("t-status", "status", r.tStatus, r.tReview),
  );

  r.form = el(
    "form",
    { id: "entry-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); h.onSave(); } },
    el(
      "div",
      { className: "entry-actions" },
      el("div", { className: "field grow" }, el("label", { for: "f-note" }, t("note")), r.note),
      el("div", { className: "buttons" }, r.save, r.submit, r.publish, r.reject, r.remove),
      r.roleHint,
    ),
    el(
      "fieldset",
      { className: "meta-fields" },
      el("legend", { className: "visually-hidden" }, t("entry_id")),
      r.idField,
      labelled("f-topic", "topic", r.topic),
      labelled("f-owner", "owner", r.owner),
      el("div", { className: "field wide" }, el("label", { for: "f-sources" }, t("sources")), r.sources),
    ),
    el("div", { className: "panes" }, r.source, r.target),
  );
  r.history = el("section", { className: "card", id: "history" });
  r.audit = el("section", { className: "card", id: "audit" });
  root.replaceChildren(
    el("p", { className: "back" }, el("a", { href: "#/entries" }, `← ${t("back_to_list")}`)),
    r.heading,
    r.status,
    r.msg,
    r.conflict,
    r.form,
    el("div", { className: "history-grid" }, r.history, r.audit),
  );
  return r;
}
