// The FAQ editor page (/editor): login, then a hash-routed view of the content API.
//   #/entries · #/entry/<id>[?lang=xx] · #/new · #/try · #/inbox · #/io
// Exposed as window.faqEditor for tests.

import { ContentApi } from "./editor-api.js";
import { say } from "./editor-dom.js";
import { EntryEditor } from "./editor-entry.js";
import { applyStrings, t } from "./editor-i18n.js";
import { EntriesList } from "./editor-list.js";
import { ImportExportView, InboxView, TryView } from "./editor-tools.js";

const $ = (sel) => document.querySelector(sel);

class EditorApp {
  constructor() {
    this.api = new ContentApi({ onSessionEnd: () => this.sessionEnded() });
    this.me = null;
    this.views = {};
    this.current = null;
    this.hash = location.hash;
    this.retryTimer = null;
  }

  async start() {
    applyStrings(document);
    $("#login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.login();
    });
    $("#logout").addEventListener("click", () => this.logout());
    window.addEventListener("hashchange", () => this.onHash());
    window.addEventListener("beforeunload", (e) => {
      if (this.editor?.dirty) e.preventDefault();
    });
    try {
      this.signedIn(await this.api.me());
    } catch {
      this.showLogin();
    }
    document.body.dataset.ready = "1";
  }

  // --- session ---------------------------------------------------------------------------
  showLogin(message = "", kind = "info") {
    this.me = null;
    $("#app").hidden = true;
    $("#who").hidden = true;
    $("#nav").hidden = true;
    $("#login").hidden = false;
    say($("#login-msg"), kind, message);
    $("#login-user").focus();
  }

  async login() {
    const button = $("#login-go");
    if (button.disabled) return;
    button.disabled = true;
    try {
      const me = await this.api.login($("#login-user").value.trim(), $("#login-password").value);
      $("#login-password").value = "";
      say($("#login-msg"), "info", "");
      this.signedIn(me);
    } catch (err) {
      if (err.status === 429) {
        const wait = Math.ceil(Number(err.data.retry_after) || 60);
        say($("#login-msg"), "error", t("login_wait", { s: wait }));
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => { button.disabled = false; }, Math.min(wait, 600) * 1000);
        return;
      }
      const text = err.status === 401 ? t("login_wrong") : err.status === 0 ? t("network_error", { msg: err.message }) : err.message;
      say($("#login-msg"), "error", text);
      $("#login-password").select();
    }
    button.disabled = false;
  }

  async logout() {
    if (this.editor?.dirty && !window.confirm(t("confirm_leave"))) return;
    try {
      await this.api.logout();
    } catch {
      // the session may already be gone: the login form is what matters
    }
    this.views = {};
    this.editor = null;
    this.showLogin();
  }

  sessionEnded() {
    if (this.me) this.showLogin(t("session_ended"), "error");
  }

  signedIn(me) {
    this.me = me;
    document.body.dataset.role = me.role;
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#who").hidden = false;
    $("#nav").hidden = false;
    $("#who-name").textContent = t("signed_in_as", { user: me.username, role: me.role });
    this.build();
    this.onHash(true);
  }

  build() {
    const navigate = (hash, { quiet = false } = {}) => this.go(hash, quiet);
    this.list = new EntriesList($("#view-entries"), this.api);
    this.editor = new EntryEditor($("#view-entry"), this.api, { navigate, me: () => this.me });
    this.tryView = new TryView($("#view-try"), this.api);
    this.inbox = new InboxView($("#view-inbox"), this.api, {
      navigate,
      entries: () => (this.list.entries.length ? this.list.entries : this.api.entries()),
    });
    this.io = new ImportExportView($("#view-io"), this.api);
  }

  // --- routing ---------------------------------------------------------------------------
  go(hash, quiet = false) {
    if (quiet) {
      history.replaceState(null, "", hash);
      this.hash = location.hash;
      this.markNav();
      return;
    }
    if (location.hash === hash) this.onHash(true);
    else location.hash = hash;
  }

  onHash(force = false) {
    if (!this.me) return;
    const hash = location.hash || "#/entries";
    if (!force && hash === this.hash) return;
    if (!force && this.current === "entry" && this.editor.dirty && !window.confirm(t("confirm_leave"))) {
      history.replaceState(null, "", this.hash);
      return;
    }
    this.hash = hash;
    const [path, query] = hash.slice(1).split("?");
    const params = new URLSearchParams(query ?? "");
    const parts = path.split("/").filter(Boolean);
    const view = parts[0] ?? "entries";
    if (view === "entry" && parts[1]) this.show("entry", () => this.editor.open(decodeURIComponent(parts[1]), params.get("lang")));
    else if (view === "new") this.show("entry", () => this.editor.open(null, params.get("lang")));
    else if (view === "try") this.show("try", () => $("#try-title").focus());
    else if (view === "inbox") this.show("inbox", () => this.inbox.load());
    else if (view === "io") this.show("io", () => {});
    else this.show("entries", () => this.list.load());
  }

  show(name, then) {
    this.current = name;
    for (const section of document.querySelectorAll(".view")) {
      section.hidden = section.id !== `view-${name}`;
    }
    this.markNav();
    then();
  }

  markNav() {
    const nav = { entry: "entries", entries: "entries" }[this.current] ?? this.current;
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.view === nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
}

const app = new EditorApp();
window.faqEditor = app;
app.start();
