// Small DOM helpers. Text from the server or the user only ever goes into textContent,
// value or attributes set by name: never into innerHTML.

import { LANGUAGES } from "./i18n.js";
import { t } from "./editor-i18n.js";

/**
 * el("p", {className: "x", lang: "ar", dataset: {k: "v"}, onclick: fn}, "text", child...)
 * Strings become text nodes; null/false children are skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "className" || key === "textContent" || key === "value") node[key] = value;
    else if (key === "disabled" || key === "hidden" || key === "checked" || key === "selected") {
      node[key] = Boolean(value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const STATUS_GLYPH = { reviewed: "✓", "machine-translated": "≈", draft: "✎", missing: "∅" };

export function languageName(code) {
  const info = LANGUAGES.find((l) => l.code === code);
  return info ? `${info.name} · ${info.native}` : code;
}

export function isRtl(code) {
  return Boolean(LANGUAGES.find((l) => l.code === code)?.rtl);
}

/** Set lang and dir for text in language `code`. */
export function setLang(node, code) {
  node.lang = code;
  node.dir = isRtl(code) ? "rtl" : "ltr";
  return node;
}

/** One language's status as a small chip: code + glyph, the status in words for assistive
 * technology and as a tooltip (colour is never the only cue). */
export function chip(code, status, { button = false, pressed = false, onclick = null } = {}) {
  const key = STATUS_GLYPH[status] ? status : "missing";
  const words = t(`st_${key}`);
  const label = `${code}: ${words}`;
  const node = el(
    button ? "button" : "li",
    {
      className: "chip",
      dataset: { status: key, lang: code },
      title: `${languageName(code)}: ${words}`,
      type: button ? "button" : null,
      "aria-pressed": button ? String(pressed) : null,
      onclick,
    },
    el("span", { className: "chip-code", "aria-hidden": "true" }, code),
    el("span", { className: "chip-glyph", "aria-hidden": "true" }, STATUS_GLYPH[key]),
    el("span", { className: "visually-hidden" }, label),
  );
  return node;
}

/** The 20 chips of an entry, in the order of the languages list. */
export function chipRow(statuses, options = {}) {
  const list = el("ul", { className: "chips", "aria-label": t("lang_status") });
  for (const { code } of LANGUAGES) list.append(chip(code, statuses?.[code] ?? "missing"));
  if (options.id) list.id = options.id;
  return list;
}

export function legend() {
  return el(
    "p",
    { className: "legend" },
    el("span", { className: "legend-title" }, t("legend")),
    ["reviewed", "machine-translated", "draft", "missing"].map((s) =>
      el(
        "span",
        { className: "legend-item" },
        el(
          "span",
          { className: "chip chip-sample", dataset: { status: s }, "aria-hidden": "true" },
          el("span", { className: "chip-glyph" }, STATUS_GLYPH[s]),
        ),
        t(`st_${s}`),
      ),
    ),
  );
}

export function stateBadge(state) {
  return el("span", { className: "state", dataset: { state } }, t(`s_${state}`));
}

/**
 * Show a message in a region: kind "ok" | "error" | "info"; `problems` as a list below it.
 * Errors use role=alert (announced at once), others role=status.
 */
export function say(region, kind, text, problems = []) {
  region.hidden = !text;
  region.dataset.kind = kind;
  region.setAttribute("role", kind === "error" ? "alert" : "status");
  clear(region, text ? el("p", {}, text) : null);
  if (problems?.length) {
    region.append(el("ul", { className: "problems" }, problems.map((p) => el("li", {}, p))));
  }
}

/**
 * A modal dialog with `fields` (nodes) and OK / Cancel; resolves to the form's FormData on
 * OK, or null. Escape cancels; focus starts on the first field.
 */
export function ask(title, fields = [], { okLabel = t("ok"), danger = false } = {}) {
  return new Promise((resolve) => {
    const form = el("form", { method: "dialog", className: "dialog-form" });
    const heading = el("h2", { id: "dialog-title" }, title);
    const ok = el(
      "button",
      { type: "submit", className: danger ? "btn btn-danger" : "btn btn-primary", value: "ok" },
      okLabel,
    );
    const cancel = el(
      "button",
      { type: "submit", className: "btn btn-quiet", value: "cancel", formnovalidate: true },
      t("cancel"),
    );
    form.append(heading, ...fields, el("div", { className: "dialog-actions" }, ok, cancel));
    const dialog = el("dialog", { className: "dialog", "aria-labelledby": "dialog-title" }, form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const data = dialog.returnValue === "ok" ? new FormData(form) : null;
      dialog.remove();
      resolve(data);
    });
    dialog.showModal();
    (form.querySelector("input, select, textarea") ?? ok).focus();
  });
}

/** A labelled field for `ask()`. */
export function field(label, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return el("div", { className: "field" }, el("label", { for: id }, label), control);
}
