// UI strings of the FAQ editor (staff only). English for now; to add Portuguese, add a `pt`
// dictionary with the same keys: `t()` falls back to English, then to the key itself.
// The page's language is <html lang> of editor.html, or `?ui=pt`.

const DICT = {
  en: {
    title: "FAQ editor",
    skip: "Skip to content",
    nav: "Sections",
    nav_entries: "Entries",
    nav_try: "Try a question",
    nav_inbox: "Inbox",
    nav_io: "Import / export",
    signed_in_as: "{user} · {role}",
    logout: "Log out",
    login_title: "Sign in to the FAQ editor",
    username: "Username",
    password: "Password",
    login: "Sign in",
    login_wrong: "Wrong username or password.",
    login_wait: "Too many failed attempts. Try again in {s} s.",
    session_ended: "Your session has ended: sign in again.",
    network_error: "The server could not be reached: {msg}",
    loading: "Loading…",
    // entries list
    entries_title: "FAQ entries",
    filter: "Filter",
    filter_hint: "id, topic, or any question or answer text",
    state_filter: "State",
    all_states: "All states",
    include_deleted: "Show deleted entries",
    new_entry: "New entry",
    count: "{shown} of {total} entries",
    no_entries: "No entry matches.",
    matched_in: "matched in {where}",
    latest: "Latest",
    published: "Published",
    not_published: "not published",
    updated: "{when} by {who}",
    by: "by {who}",
    legend: "Translation status:",
    lang_status: "Translation status per language",
    // language status
    st_draft: "draft",
    "st_machine-translated": "machine-translated",
    st_reviewed: "reviewed",
    st_missing: "missing",
    // version states
    s_draft: "draft",
    s_review: "in review",
    s_published: "published",
    s_superseded: "superseded",
    s_rejected: "rejected",
    s_deleted: "deleted",
    s_new: "new, not saved",
    // entry editor
    back_to_list: "All entries",
    entry_title: "Entry {id}",
    new_entry_title: "New entry",
    version_line: "version {v}",
    based_on: "based on version {v}",
    published_line: "Published: version {v}",
    unsaved: "Unsaved changes",
    entry_id: "Entry id",
    entry_id_hint: "lower-case letters, digits and hyphens, e.g. fishing-licence",
    topic: "Topic",
    owner: "Owner",
    reviewed_on: "Reviewed on {date} by {who}",
    never_reviewed: "Never reviewed: a reviewer records it by publishing this language as reviewed",
    sources: "Official sources (one URL per line)",
    note: "Note for this change (optional)",
    note_col: "Note",
    save_draft: "Save draft",
    submit: "Submit for review",
    publish: "Publish",
    reject: "Reject",
    delete: "Delete",
    role_hint: "Publishing, rejecting, rolling back and deleting need the reviewer role (you are {role}).",
    source_pane: "Portuguese source (read-only)",
    target_pane: "Translation",
    language: "Language",
    question: "Question",
    paraphrases: "Paraphrases (one per line)",
    answer: "Answer",
    status: "Review status",
    none: "—",
    chars: "{n} characters (publishing allows up to {max})",
    saved: "Saved as version {v} (draft).",
    created: "Created {id} as version {v} (draft).",
    submitted: "Version {v} is waiting for review.",
    published_ok: "Version {v} is published: the assistant answers from it now.",
    rejected_ok: "Version {v} was rejected.",
    deleted_ok: "{id} was deleted: the assistant no longer answers from it.",
    rolled_back: "Rolled back: version {v} is published with the text of version {from}.",
    confirm_delete: "Delete {id}? The assistant stops answering from it; its history is kept.",
    confirm_rollback: "Publish the text of version {v} of {id} again, as a new version?",
    confirm_discard: "Discard your changes and load version {v} from the server?",
    confirm_leave: "You have unsaved changes. Leave this entry and lose them?",
    reject_note: "Why is it rejected? (optional)",
    validation_failed: "The server refused it:",
    id_required: "Give the new entry an id first.",
    // conflict
    conflict_title: "Someone else changed this entry",
    conflict_lead: "You started from version {base}; the server now has version {v} ({state}, by {who}, {when}). Your text is kept below: nothing is lost.",
    conflict_server: "On the server: version {v}",
    conflict_yours: "Yours (not saved)",
    conflict_same: "Your text and the server's are the same.",
    keep_mine: "Keep mine and save again on top of version {v}",
    take_theirs: "Discard mine and load version {v}",
    combine: "Combine: their changes and mine, as a draft on top of version {v}",
    changed_yours: "changed by you",
    changed_server: "changed on the server",
    changed_both: "changed by both",
    field: "Field",
    // history and audit
    history: "Version history",
    audit: "Audit trail",
    rollback: "Roll back to this",
    version: "Version",
    state: "State",
    author: "Author",
    date: "Date",
    action: "Action",
    changes: "Changes",
    user: "User",
    no_audit: "No audit records.",
    // try
    try_title: "Try a question",
    try_lead: "What the assistant answers now, from the published entries only.",
    try_text: "Question",
    try_lang: "Language",
    auto_detect: "Detect automatically",
    try_go: "Try",
    detected: "Language",
    decision: "Decision",
    chosen: "Entry",
    confidence: "Confidence",
    handoff: "hands off to a person",
    answer_given: "Answer",
    screening: "Screening",
    ranking: "Top 5",
    rank: "#",
    entry: "Entry",
    score: "Score",
    question_score: "Question match",
    matched: "Matched text",
    lexical: "Word match rank",
    // inbox
    inbox_title: "Inbox: questions without a good answer",
    inbox_lead: "Similar questions, grouped across languages. Personal numbers and e-mail addresses are redacted.",
    inbox_status: "Show",
    c_open: "open",
    c_dismissed: "dismissed",
    c_resolved: "resolved",
    inbox_empty: "Nothing here.",
    cluster: "Cluster {id}",
    cluster_size: "{n} questions",
    cluster_size_one: "1 question",
    cluster_langs: "languages: {langs}",
    cluster_flagged: "{n} refused as off-topic",
    cluster_entry: "turned into {id}",
    // what happened to a question in the inbox (`kind`), and the entry it came nearest to
    q_kind_no_answer: "not answered",
    q_kind_faq: "answered with low confidence",
    q_kind_off_topic: "refused as off-topic",
    answered_with: "with {id} (confidence {score})",
    nearest_unused: "nearest entry {id}, not used",
    new_from: "New entry from this",
    add_paraphrases: "Add as paraphrases to…",
    dismiss: "Dismiss",
    dismissed_ok: "Cluster {id} dismissed.",
    new_from_title: "New draft entry from cluster {id}",
    new_id_optional: "Entry id (optional: inbox-{id} if empty)",
    paraphrase_title: "Add the questions of cluster {id} as paraphrases",
    paraphrase_target: "Entry",
    ok: "OK",
    cancel: "Cancel",
    // import / export
    io_title: "Import and export",
    export_title: "Export the published entries",
    export_yaml: "Download YAML",
    export_csv: "Download CSV",
    import_title: "Import a file as drafts",
    import_lead: "The whole file is checked first; nothing is created unless every entry passes. Imported entries are drafts until a reviewer publishes them.",
    import_file: "File (YAML or CSV)",
    import_format: "Format",
    import_go: "Import",
    import_none: "Choose a file first.",
    import_ok: "Created {n} drafts:",
    import_where: "Line {line}, field {field}",
    import_line: "Line {line}",
    import_field: "Field {field}",
  },
};

export const ROLE_RANK = { editor: 0, reviewer: 1, admin: 2 };

function uiLanguage() {
  const asked = new URLSearchParams(globalThis.location?.search ?? "").get("ui");
  if (asked && DICT[asked]) return asked;
  const lang = globalThis.document?.documentElement.lang;
  return DICT[lang] ? lang : "en";
}

const UI = uiLanguage();

/** The UI string for `key`, with {name} placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = DICT[UI]?.[key] ?? DICT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fill `data-i18n` (text), `data-i18n-placeholder` and `data-i18n-aria` (aria-label). */
export function applyStrings(root) {
  document.documentElement.lang = UI;
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll("[data-i18n-aria]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  }
}

export function formatTime(seconds) {
  if (seconds == null) return "";
  return new Date(seconds * 1000).toLocaleString(UI === "en" ? "en-GB" : UI, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}
