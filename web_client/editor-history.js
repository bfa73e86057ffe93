// Parts of the entry view that show other versions: the 409 conflict (the server's version
// next to the editor's own, field by field), the version history and the audit trail.

import { LANGUAGES } from "./i18n.js";
import { clear, el, setLang, stateBadge } from "./editor-dom.js";
import { formatTime, t } from "./editor-i18n.js";

const TOP_FIELDS = [
  ["topic", "topic"],
  ["owner", "owner"],
  ["sources", "sources"],
];
const LANG_FIELDS = ["status", "question", "paraphrases", "answer"];

function asText(value) {
  if (Array.isArray(value)) return value.join("\n");
  return value == null ? "" : String(value);
}

/** Every field of a body as [path, label, lang]: top fields, then each language's fields. */
function fieldsOf(...bodies) {
  const out = TOP_FIELDS.map(([key, label]) => [[key], t(label), null]);
  for (const { code } of LANGUAGES) {
    if (!bodies.some((b) => b?.languages?.[code])) continue;
    for (const key of LANG_FIELDS) out.push([["languages", code, key], `${code} · ${t(key)}`, code]);
  }
  return out;
}

const get = (body, path) => path.reduce((x, k) => (x == null ? undefined : x[k]), body);

/**
 * [{label, lang, server, yours, who}] for every field where the server's version and yours
 * differ; `who` says which side changed it since `base` (the version the edit started from):
 * "server", "yours" or "both".
 */
export function differences(server, yours, base) {
  const out = [];
  for (const [path, label, lang] of fieldsOf(server, yours)) {
    const a = asText(get(server, path));
    const b = asText(get(yours, path));
    if (a === b) continue;
    const o = asText(get(base, path));
    const who = o === a ? "yours" : o === b ? "server" : "both";
    out.push({ label, lang, server: a, yours: b, who });
  }
  return out;
}

/** The server's body with every field you changed since `base` taken from yours. */
export function combine(server, yours, base) {
  const out = JSON.parse(JSON.stringify(server));
  for (const [path] of fieldsOf(server, yours)) {
    const mine = get(yours, path);
    if (mine === undefined || asText(mine) === asText(get(base, path))) continue;
    let node = out;
    for (const k of path.slice(0, -1)) node = node[k] ??= {};
    node[path.at(-1)] = JSON.parse(JSON.stringify(mine));
  }
  return out;
}

/**
 * Fill `root` with the conflict: `current` is the server's VersionOut, `yours` the editor's
 * body. Buttons call onKeepMine() / onTakeTheirs().
 */
export function renderConflict(root, { current, yours, base, baseVersion, onKeepMine, onCombine, onTakeTheirs }) {
  const diffs = differences(current.body, yours, base);
  const clash = diffs.some((d) => d.who === "both");
  const table = el(
    "table",
    { className: "conflict-table" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col" }, t("field")),
        el("th", { scope: "col" }, t("conflict_server", { v: current.version }), " ",
          stateBadge(current.state)),
        el("th", { scope: "col" }, t("conflict_yours")),
      ),
    ),
    el(
      "tbody",
      {},
      diffs.map((d) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, d.label, el("span", { className: "who", dataset: { who: d.who } }, t(`changed_${d.who}`))),
          cell(d.server, d.lang, "server"),
          cell(d.yours, d.lang, "yours"),
        ),
      ),
    ),
  );
  clear(
    root,
    el("h2", { id: "conflict-title", tabindex: "-1" }, t("conflict_title")),
    el(
      "p",
      {},
      t("conflict_lead", {
        base: baseVersion,
        v: current.version,
        state: t(`s_${current.state}`),
        who: current.author,
        when: formatTime(current.created_at),
      }),
    ),
    diffs.length ? table : el("p", {}, t("conflict_same")),
    el(
      "div",
      { className: "actions" },
      el(
        "button",
        { type: "button", className: "btn btn-primary", id: "keep-mine", onclick: onKeepMine },
        t("keep_mine", { v: current.version }),
      ),
      diffs.length && !clash
        ? el(
            "button",
            { type: "button", className: "btn btn-secondary", id: "combine", onclick: onCombine },
            t("combine", { v: current.version }),
          )
        : null,
      el(
        "button",
        { type: "button", className: "btn btn-quiet", id: "take-theirs", onclick: onTakeTheirs },
        t("take_theirs", { v: current.version }),
      ),
    ),
  );
  root.hidden = false;
  root.querySelector("#conflict-title").focus();
}

function cell(text, lang, side) {
  const node = el("td", { className: `diff diff-${side}` }, el("div", { className: "diff-text" }, text));
  if (lang) setLang(node.firstChild, lang);
  return node;
}

/** The versions, newest first, with "Roll back to this" on earlier published ones. */
export function renderHistory(root, versions, { latest, canRollback, onRollback }) {
  const rows = [...versions].sort((a, b) => b.version - a.version);
  clear(
    root,
    el("h2", { id: "history-title" }, t("history")),
    el(
      "table",
      { className: "data-table", id: "history-table", "aria-labelledby": "history-title" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          [t("version"), t("state"), t("author"), t("date"), t("note_col"), ""].map((h) =>
            el("th", { scope: "col" }, h),
          ),
        ),
      ),
      el(
        "tbody",
        {},
        rows.map((v) =>
          el(
            "tr",
            { dataset: { version: v.version } },
            el("td", {}, `v${v.version}`, v.base_version != null ? ` ← v${v.base_version}` : ""),
            el("td", {}, stateBadge(v.state)),
            el("td", {}, v.author),
            el("td", {}, formatTime(v.created_at)),
            el("td", { dir: "auto" }, v.note),
            el(
              "td",
              {},
              // only text that was published once can go live again by rollback
              v.version < latest && (v.state === "published" || v.state === "superseded")
                ? el(
                    "button",
                    {
                      type: "button",
                      className: "btn btn-small btn-secondary rollback",
                      disabled: !canRollback,
                      "aria-label": `${t("rollback")}: v${v.version}`,
                      onclick: () => onRollback(v.version),
                    },
                    t("rollback"),
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderAudit(root, records) {
  clear(
    root,
    el("h2", { id: "audit-title" }, t("audit")),
    records.length
      ? el(
          "ol",
          { className: "audit-list", id: "audit-list", "aria-labelledby": "audit-title" },
          records.map((r) =>
            el(
              "li",
              {},
              el(
                "p",
                { className: "audit-head" },
                el("strong", {}, r.action),
                r.version != null ? ` v${r.version}` : "",
                ` · ${r.username} · ${formatTime(r.at)}`,
              ),
              r.changes?.length
                ? el("ul", { className: "audit-changes" }, r.changes.map((c) => el("li", { dir: "auto" }, c)))
                : null,
              r.note ? el("p", { className: "muted", dir: "auto" }, r.note) : null,
            ),
          ),
        )
      : el("p", { className: "muted" }, t("no_audit")),
  );
}
