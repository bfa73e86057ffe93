// The content API, on the signed-in pages' client (session-api.js).

import { SessionApi } from "./session-api.js";

export class ContentApi extends SessionApi {
  // --- entries ---------------------------------------------------------------------------
  entries(includeDeleted = false) {
    return this.request("GET", `/api/faq/entries${includeDeleted ? "?include_deleted=true" : ""}`);
  }

  search(q) {
    return this.request("GET", `/api/faq/search?${new URLSearchParams({ q, limit: "200" })}`);
  }

  entry(id) {
    return this.request("GET", `/api/faq/entries/${encodeURIComponent(id)}`);
  }

  versions(id) {
    return this.request("GET", `/api/faq/entries/${encodeURIComponent(id)}/versions`);
  }

  audit(id) {
    return this.request("GET", `/api/faq/audit?${new URLSearchParams({ entry_id: id })}`);
  }

  create(body, note = "") {
    return this.request("POST", "/api/faq/entries", { json: { body, note } });
  }

  update(id, baseVersion, body, note = "") {
    return this.request("PUT", `/api/faq/entries/${encodeURIComponent(id)}`, {
      json: { base_version: baseVersion, body, note },
    });
  }

  /** action: submit | publish | reject | rollback */
  act(id, action, version, note = "") {
    return this.request("POST", `/api/faq/entries/${encodeURIComponent(id)}/${action}`, {
      json: { version, note },
    });
  }

  remove(id, note = "") {
    const q = note ? `?${new URLSearchParams({ note })}` : "";
    return this.request("DELETE", `/api/faq/entries/${encodeURIComponent(id)}${q}`);
  }

  tryQuestion(text, lang) {
    const json = { text };
    if (lang) json.lang = lang;
    return this.request("POST", "/api/faq/try", { json });
  }

  // --- inbox, import ---------------------------------------------------------------------
  inbox(status = "open") {
    return this.request("GET", `/api/faq/inbox?${new URLSearchParams({ status })}`);
  }

  newEntryFrom(clusterId, entryId, topic) {
    const json = { topic: topic || "unsorted" };
    if (entryId) json.entry_id = entryId;
    return this.request("POST", `/api/faq/inbox/${clusterId}/new-entry`, { json });
  }

  paraphraseFrom(clusterId, entryId) {
    return this.request("POST", `/api/faq/inbox/${clusterId}/paraphrase`, {
      json: { entry_id: entryId },
    });
  }

  dismiss(clusterId) {
    return this.request("POST", `/api/faq/inbox/${clusterId}/dismiss`, { json: {} });
  }

  importFile(format, text) {
    return this.request("POST", `/api/faq/import?${new URLSearchParams({ format })}`, {
      text,
      contentType: format === "csv" ? "text/csv" : "text/yaml",
    });
  }
}
