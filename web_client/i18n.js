// Languages and UI strings. Works before /api/languages answers (the list below mirrors
// voice_agent/languages.py); `t()` falls back to English, then to the key itself.

import { STRINGS } from "./strings.js";

export const LANGUAGES = [
  { code: "pt", name: "Portuguese", native: "Português", rtl: false },
  { code: "en", name: "English", native: "English", rtl: false },
  { code: "es", name: "Spanish", native: "Español", rtl: false },
  { code: "fr", name: "French", native: "Français", rtl: false },
  { code: "de", name: "German", native: "Deutsch", rtl: false },
  { code: "it", name: "Italian", native: "Italiano", rtl: false },
  { code: "ro", name: "Romanian", native: "Română", rtl: false },
  { code: "pl", name: "Polish", native: "Polski", rtl: false },
  { code: "uk", name: "Ukrainian", native: "Українська", rtl: false },
  { code: "ru", name: "Russian", native: "Русский", rtl: false },
  { code: "tr", name: "Turkish", native: "Türkçe", rtl: false },
  { code: "ar", name: "Arabic", native: "العربية", rtl: true },
  { code: "fa", name: "Persian", native: "فارسی", rtl: true },
  { code: "ur", name: "Urdu", native: "اردو", rtl: true },
  { code: "hi", name: "Hindi", native: "हिन्दी", rtl: false },
  { code: "pa", name: "Punjabi", native: "ਪੰਜਾਬੀ", rtl: false },
  { code: "gu", name: "Gujarati", native: "ગુજરાતી", rtl: false },
  { code: "ne", name: "Nepali", native: "नेपाली", rtl: false },
  { code: "bn", name: "Bengali", native: "বাংলা", rtl: false },
  { code: "zh", name: "Chinese", native: "中文", rtl: false },
];

export const DEFAULT_LANGUAGE = "pt";

// The human channel: names and numbers verbatim, never translated.
export const HELPLINE = Object.freeze({
  line: "Linha de Apoio ao Migrante",
  phone: "808 257 257",
  mobile: "218 106 191",
});

const byCode = new Map(LANGUAGES.map((l) => [l.code, l]));

export function languageInfo(code) {
  return byCode.get(code) ?? byCode.get(DEFAULT_LANGUAGE);
}

export function isSupported(code) {
  return byCode.has(code);
}

export function isRtl(code) {
  return Boolean(byCode.get(code)?.rtl);
}

/** Map "pt-BR", "zh_Hans", "EN" to a supported code, or null. */
export function normalizeLanguage(tag) {
  if (!tag) return null;
  const base = String(tag).trim().replace("_", "-").split("-")[0].toLowerCase();
  return byCode.has(base) ? base : null;
}

/** The first supported language among the browser's preferences, else the default. */
export function browserLanguage(nav = globalThis.navigator) {
  const prefs = nav?.languages?.length ? nav.languages : [nav?.language];
  for (const tag of prefs) {
    const code = normalizeLanguage(tag);
    if (code) return code;
  }
  return DEFAULT_LANGUAGE;
}

/** Merge the server's list (same shape) over the built-in one, keeping only known codes. */
export function mergeLanguages(serverList) {
  if (!Array.isArray(serverList)) return LANGUAGES;
  const merged = serverList
    .filter((l) => l && byCode.has(l.code))
    .map((l) => ({ ...byCode.get(l.code), ...l, rtl: Boolean(l.rtl) }));
  return merged.length ? merged : LANGUAGES;
}

/** The UI string `key` in `lang` (English fallback) with `{name}` placeholders filled. */
export function t(lang, key, params = {}) {
  const entry = STRINGS[key];
  let text = entry ? (entry[lang] ?? entry.en) : key;
  for (const [name, value] of Object.entries(params)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/**
 * Like `t`, but returns DOM nodes: each `{name}` whose param is a Node is inserted as that
 * node (used to embed phone-number links in a translated sentence).
 */
export function tNodes(lang, key, params = {}) {
  const template = t(lang, key);
  const nodes = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    if (m.index > last) nodes.push(document.createTextNode(template.slice(last, m.index)));
    const value = params[m[1]];
    nodes.push(value instanceof Node ? value : document.createTextNode(String(value ?? m[0])));
    last = m.index + m[0].length;
  }
  if (last < template.length) nodes.push(document.createTextNode(template.slice(last)));
  return nodes;
}

/**
 * Fill every `[data-i18n]` (text), `[data-i18n-aria]` (aria-label), `[data-i18n-placeholder]`
 * and `[data-i18n-title]` under `root`.
 */
export function translateTree(root, lang) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(lang, el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(lang, el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(lang, el.dataset.i18nPlaceholder));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(lang, el.dataset.i18nTitle));
  }
}

/** Set <html lang dir> for `lang`; the layout mirrors through logical CSS properties. */
export function applyDocumentLanguage(lang, doc = document) {
  doc.documentElement.lang = lang;
  doc.documentElement.dir = isRtl(lang) ? "rtl" : "ltr";
}
