// The console's server side: JSON over HTTP (cookie session, X-CSRF-Token on writes) and the
// live websocket (/api/console/live): hello with the CSRF token first, then every message
// carries a strictly increasing `seq`. Reconnects by itself unless the server refused us.

import { SessionApi } from "./session-api.js";

export class ConsoleApi extends SessionApi {
  logout() { return this.request("POST", "/api/auth/logout"); }
  sessions() { return this.request("GET", "/api/console/sessions"); }
  session(id) { return this.request("GET", `/api/console/sessions/${encodeURIComponent(id)}`); }
  accept(id) { return this.request("POST", `/api/console/handoffs/${id}/accept`); }
  send(id, message) { return this.request("POST", `/api/console/handoffs/${id}/message`, { json: message }); }
  giveBack(id) { return this.request("POST", `/api/console/handoffs/${id}/return`); }
  close(id, outcome) { return this.request("POST", `/api/console/handoffs/${id}/close`, { json: { outcome } }); }
  rate(body) { return this.request("POST", "/api/console/ratings", { json: body }); }

  answers(lang, q = "") {
    const p = new URLSearchParams({ lang });
    if (q) p.set("q", q);
    return this.request("GET", `/api/console/answers?${p}`);
  }

  history(filters) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
    return this.request("GET", `/api/console/history?${p}`);
  }

  stats(since, until) {
    return this.request("GET", `/api/console/stats?${new URLSearchParams({ since, until })}`);
  }

  audit(since, until) {
    return this.request("GET", `/api/console/audit?${new URLSearchParams({ since, until })}`);
  }
}

/** The live feed. onMessage(msg) for every server message; onState("open"|"closed"|"refused"). */
export class LiveFeed {
  constructor({ csrf, name, onMessage, onState }) {
    this.csrf = csrf;
    this.name = name || null;
    this.onMessage = onMessage;
    this.onState = onState;
    this.seq = 0;
    this.ws = null;
    this.stopped = false;
    this.retry = 1000;
    this.watching = new Set();
  }

  start() {
    this.stopped = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/console/live`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.seq = 0;
      this._emit({ type: "hello", csrf: this.csrf, name: this.name });
      for (const id of this.watching) this._emit({ type: "watch", session_id: id });
      this.retry = 1000;
      this.onState("open");
    });
    ws.addEventListener("message", (e) => {
      try {
        this.onMessage(JSON.parse(e.data));
      } catch (err) {
        console.warn("console feed: bad message", err);
      }
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (e.code === 4401 || e.code === 4403) {
        this.onState("refused");
        return;
      }
      this.onState("closed");
      setTimeout(() => { if (!this.stopped) this.start(); }, this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    });
  }

  _emit(msg) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.seq += 1;
    this.ws.send(JSON.stringify({ ...msg, seq: this.seq }));
    return true;
  }

  watch(id) {
    this.watching.add(id);
    this._emit({ type: "watch", session_id: id });
  }

  unwatch(id) {
    if (!this.watching.delete(id)) return;
    this._emit({ type: "unwatch", session_id: id });
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
    this.ws = null;
  }
}
