// The HTTP side of the server contract (same origin only; the UI makes no other requests).

export class ApiError extends Error {
  /**
   * kind: "rate_limited" (retryAfter s) | "http" | "network"
   */
  constructor(kind, message, { status = 0, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

async function postJson(path, body, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
      credentials: "same-origin",
    });
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError("network", String(err?.message ?? err));
  }
  const data = await readJson(response);
  if (response.ok) return data;
  const detail = typeof data.detail === "string" ? data.detail : `HTTP ${response.status}`;
  if (response.status === 429) {
    const header = Number(response.headers.get("Retry-After"));
    const retryAfter = Number(data.retry_after ?? header) || 5;
    throw new ApiError("rate_limited", detail, { status: 429, retryAfter });
  }
  throw new ApiError("http", detail, { status: response.status });
}

export async function fetchLanguages({ signal } = {}) {
  const response = await fetch("/api/languages", { signal, credentials: "same-origin" });
  if (!response.ok) {
    throw new ApiError("http", `HTTP ${response.status}`, { status: response.status });
  }
  return response.json();
}

/** Text fallback (no WebRTC): one question, the whole answer, no audio. */
export function ask(text, lang, options) {
  const body = { text };
  if (lang) body.lang = lang;
  return postJson("/api/ask", body, options);
}

export function requestHandoff(sessionId, lang) {
  const body = { lang };
  if (sessionId) body.session_id = sessionId;
  return postJson("/api/handoff", body);
}

/** `resume`: the session this browser had (a reconnect): the server carries its conversation on. */
export function postOffer(sdp, lang, options, resume = null) {
  const body = { sdp, type: "offer", lang };
  if (resume) body.session_id = resume;
  return postJson("/api/rtc/offer", body, options);
}
