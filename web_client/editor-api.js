// The content API (same origin, cookie session). Every write sends the session's CSRF token
// as X-CSRF-Token. Errors become ContentError with the server's typed fields.

export class ContentError extends Error {
  /**
   * status: HTTP status (0: network); code: the server's error code ("conflict",
   * "validation_failed", "invalid_state", "too_many_attempts", "bad_input"...);
   * data: the whole error body (problems, line, field, current, yours, retry_after).
   */
  constructor(status, message, code = "", data = {}) {
    super(message);
    this.name = "ContentError";
    this.status = status;
    this.code = code;
    this.data = data;
  }

  get problems() {
    return Array.isArray(this.data.problems) ? this.data.problems : [];
  }
}

/** FastAPI's own 422 lists the failing fields: one line each. */
function describe(data, status) {
  if (typeof data.detail === "string") return { message: data.detail, problems: data.problems };
  if (Array.isArray(data.detail)) {
    const problems = data.detail.map((d) => {
      const loc = (d.loc ?? []).filter((x) => x !== "body").join(".");
      return loc ? `${loc}: ${d.msg}` : String(d.msg);
    });
    const message = problems.length === 1 ? problems[0] : `${problems.length} fields are not valid`;
    return { message, problems };
  }
  return { message: `HTTP ${status}`, problems: [] };
}

export class ContentApi {
  /** onSessionEnd(): called when a request other than login answers 401. */
  constructor({ onSessionEnd = () => {} } = {}) {
    this.csrf = "";
    this.onSessionEnd = onSessionEnd;
  }

  async request(method, path, { json, text, contentType, quietAuth = false } = {}) {
    const headers = {};
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (text !== undefined) {
      headers["Content-Type"] = contentType ?? "text/plain";
      body = text;
    }
    if (method !== "GET" && this.csrf) headers["X-CSRF-Token"] = this.csrf;
    let response;
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (err) {
      throw new ContentError(0, String(err?.message ?? err), "network");
    }
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (response.ok) return data;
    const { message, problems } = describe(data, response.status);
    const extra = { ...data, problems: problems ?? data.problems };
    if (response.status === 429 && extra.retry_after == null) {
      extra.retry_after = Number(response.headers.get("Retry-After")) || null;
    }
    const error = new ContentError(response.status, message, data.code ?? "", extra);
    if (response.status === 401 && !quietAuth) this.onSessionEnd(error);
    throw error;
  }

  // --- session ---------------------------------------------------------------------------
  async login(username, password) {
    const me = await this.request("POST", "/api/auth/login", {
      json: { username, password },
      quietAuth: true,
    });
    this.csrf = me.csrf_token;
    return me;
  }

  async me() {
    const me = await this.request("GET", "/api/auth/me", { quietAuth: true });
    this.csrf = me.csrf_token;
    return me;
  }

  async logout() {
    try {
      await this.request("POST", "/api/auth/logout", { json: {}, quietAuth: true });
    } finally {
      this.csrf = "";
    }
  }

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
