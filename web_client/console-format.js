// Words and formats shared by the console's views. Text from the server only ever goes into
// textContent or attributes (editor-dom.js's `el`), never into innerHTML.

import { LANGUAGES } from "./i18n.js";

export { clear, el } from "./editor-dom.js";

export const FLAGS = {
  // raised by every hand-off request: the citizen's own, and the one made for them after two
  // questions without an answer (the queue says which: HANDOFF_REASONS)
  asked_person: "Hand-off requested",
  misses: "No answer twice",
  negative_feedback: "Negative feedback",
  repeated: "Same question again",
  language_switch: "Language switched",
  stage_failed: "A stage failed",
  slow: "Slow reply",
  injection: "Injection or abuse attempt",
};

// why a hand-off was requested (the desk's `reason`)
export const HANDOFF_REASONS = {
  asked: "asked for a person",
  button: "pressed \u201cTalk to a person\u201d",
  misses: "sent after two questions without an answer",
};

export const OUTCOMES = {
  resolved: "Resolved",
  referred: "Referred to a service",
  unresolved: "Not resolved",
  no_response: "Citizen did not respond",
};

export const SESSION_OUTCOMES = {
  answered: "Answered",
  partly_answered: "Partly answered",
  unanswered: "Unanswered",
  handed_off: "Handed off to staff",
  helpline: "Given the helpline (nobody on duty)",
  abandoned: "Left while waiting",
  no_question: "No question",
  interrupted: "Interrupted (server restart)",
  ...OUTCOMES,
};

export const HANDOFF_STATES = {
  waiting: "Waiting",
  accepted: "Accepted",
  returned: "Handed back",
  closed: "Closed",
  cancelled: "Cancelled by the citizen",
  expired: "Expired",
  unavailable: "Nobody on duty",
};

export function languageName(code) {
  const info = LANGUAGES.find((l) => l.code === code);
  return info ? info.name : code || "?";
}

export function isRtl(code) {
  return Boolean(LANGUAGES.find((l) => l.code === code)?.rtl);
}

/** lang + dir attributes for citizen text in `code`. */
export function langAttrs(code) {
  return code ? { lang: code, dir: isRtl(code) ? "rtl" : "ltr" } : {};
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m}:${String(s % 60).padStart(2, "0")}`;
}

export function clock(epoch) {
  return new Date(epoch * 1000).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function dateTime(epoch) {
  return new Date(epoch * 1000).toLocaleString("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

export function isoDay(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 10);
}

export function ms(v) {
  return v == null ? "–" : `${Math.round(v)} ms`;
}
