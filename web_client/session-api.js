// The signed-in pages' HTTP client (editor and console): same origin, cookie session, the
// session's CSRF token as X-CSRF-Token on every write. Errors become ApiError with the
// server's typed fields; a 401 (other than at login) calls onSessionEnd.

export class ApiError extends Error {
  /**
   * status: HTTP status (0: network); code: the server's error code ("conflict",
   * "validation_failed", "invalid_state", "too_many_attempts", "bad_input"...);
   * data: the whole error body (problems, line, field, current, yours, retry_after).
   */
  constructor(status, message, code = "", data = {}) {
    super(message);
    this.name = "ApiError";
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

export class SessionApi {
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
      throw new ApiError(0, String(err?.message ?? err), "network");
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
    const error = new ApiError(response.status, message, data.code ?? "", extra);
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
}
