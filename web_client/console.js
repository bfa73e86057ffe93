// The contact-centre console (/console): sign in, then a hash-routed view —
//   #/live (queue, sessions now, one conversation) · #/history · #/dashboard · #/audit
// Live data comes over the websocket (console-api.js LiveFeed); actions are HTTP calls.
// Exposed as window.staffConsole for tests.

import { ConsoleApi, LiveFeed } from "./console-api.js";
import { ConversationPanel } from "./console-chat.js";
import { DashboardView } from "./console-dashboard.js";
import { AuditView, HistoryView } from "./console-history.js";
import { LiveView } from "./console-live.js";

const $ = (sel) => document.querySelector(sel);
const ROLES = ["staff", "supervisor"];
const NAME_KEY = "va-console-name";

class StaffConsole {
  constructor() {
    this.api = new ConsoleApi({ onSessionEnd: () => this.sessionEnded() });
    this.me = null;
    this.feed = null;
    this.views = null;
  }

  async start() {
    $("#login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.login();
    });
    $("#logout").addEventListener("click", () => this.logout());
    $("#login-name").value = sessionStorage.getItem(NAME_KEY) ?? "";
    window.addEventListener("hashchange", () => this.route());
    try {
      this.signedIn(await this.api.me());
    } catch {
      this.showLogin();
    }
    document.body.dataset.ready = "1";
  }

  // --- session -----------------------------------------------------------------------------
  showLogin(message = "") {
    this.stopFeed();
    this.me = null;
    $("#app").hidden = true;
    $("#who").hidden = true;
    $("#nav").hidden = true;
    $("#login").hidden = false;
    const msg = $("#login-msg");
    msg.textContent = message;
    msg.hidden = !message;
    $("#login-user").focus();
  }

  async login() {
    const button = $("#login-go");
    button.disabled = true;
    try {
      const me = await this.api.login($("#login-user").value.trim(), $("#login-password").value);
      $("#login-password").value = "";
      sessionStorage.setItem(NAME_KEY, $("#login-name").value.trim());
      this.signedIn(me);
    } catch (err) {
      const text = err.status === 401 ? "Wrong username or password."
        : err.status === 429 ? `Too many failed attempts. Try again in ${Math.ceil(err.data.retry_after ?? 60)} s.`
          : err.message;
      this.showLogin(text);
    } finally {
      button.disabled = false;
    }
  }

  async logout() {
    try {
      await this.api.logout();
    } catch {
      // the session may be gone already
    }
    this.showLogin();
  }

  sessionEnded() {
    if (this.me) this.showLogin("Your session has ended: sign in again.");
  }

  signedIn(me) {
    if (!ROLES.includes(me.role)) {
      this.showLogin(`The console is for staff and supervisors (you are ${me.role}).`);
      return;
    }
    this.me = me;
    document.body.dataset.role = me.role;
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#who").hidden = false;
    $("#nav").hidden = false;
    for (const link of document.querySelectorAll("#nav [data-role]")) {
      link.hidden = link.dataset.role !== me.role;
    }
    $("#who-name").textContent = `${me.username} · ${me.role}`;
    this.build();
    this.startFeed();
    this.route();
  }

  build() {
    const onError = (err) => this.error(err);
    const meFn = () => this.me;
    this.panel = new ConversationPanel($("#conversation"), this.api, {
      me: meFn, feed: () => this.feed, announce: (t) => this.announce(t), onError,
    });
    const open = (id) => {
      if (location.hash !== "#/live") location.hash = "#/live";
      this.panel.open(id);
    };
    this.live?.stop();
    this.live = new LiveView($("#view-live"), {
      me: meFn,
      open,
      accept: async (h) => {
        if (location.hash !== "#/live") location.hash = "#/live";
        await this.panel.open(h.session_id, { focus: false });
        await this.panel.accept(h.id);
      },
    });
    this.views = {
      history: new HistoryView($("#view-history"), this.api, { open, onError }),
      dashboard: new DashboardView($("#view-dashboard"), this.api, { onError }),
      audit: new AuditView($("#view-audit"), this.api, { onError }),
    };
  }

  // --- the live feed -----------------------------------------------------------------------
  startFeed() {
    this.stopFeed();
    this.feed = new LiveFeed({
      csrf: this.api.csrf,
      name: sessionStorage.getItem(NAME_KEY) || null,
      onMessage: (msg) => this.onFeed(msg),
      onState: (state) => {
        if (state === "refused") this.sessionEnded();
        else if (state === "closed") this.setDuty({ connected: false });
      },
    });
    this.feed.start();
  }

  stopFeed() {
    this.feed?.stop();
    this.feed = null;
  }

  onFeed(msg) {
    switch (msg.type) {
      case "hello":
        this.live.reset(msg.sessions, msg.handoffs);
        this.panel.onQueue(msg.handoffs);
        this.setDuty(msg);
        break;
      case "presence":
        this.setDuty(msg);
        break;
      case "session":
        this.live.upsert(msg.session);
        break;
      case "session_gone":
        this.live.remove(msg.session_id);
        this.panel.sessionEnded(msg.session_id);
        break;
      case "handoffs": {
        const before = new Set(this.live.handoffs.filter((h) => h.state === "waiting").map((h) => h.id));
        this.live.setQueue(msg.items);
        this.panel.onQueue(msg.items);
        const fresh = msg.items.filter((h) => h.state === "waiting" && !before.has(h.id));
        if (fresh.length) this.announce(`A citizen is asking for a person (${fresh.length} new).`);
        break;
      }
      case "turn":
      case "times":
      case "flag":
        this.panel.onFeed(msg);
        break;
      case "error":
        console.warn("console feed:", msg.code, msg.message);
        break;
      default:
        break;
    }
  }

  setDuty({ on_duty: onDuty = this.onDuty, open = this.open, connected = true }) {
    this.onDuty = onDuty;
    this.open = open;
    const duty = $("#duty");
    let text = "On duty: citizens can be handed to you";
    let state = "on";
    if (!connected) {
      text = "Reconnecting… (citizens are not promised a person meanwhile)";
      state = "off";
    } else if (!open) {
      text = "Outside opening hours: citizens get the helpline";
      state = "off";
    } else if (!onDuty) {
      text = "Not on duty";
      state = "off";
    }
    duty.textContent = text;
    duty.dataset.duty = state;
  }

  // --- routing -----------------------------------------------------------------------------
  route() {
    if (!this.me) return;
    let view = (location.hash.replace(/^#\//, "") || "live").split("/")[0];
    if (!["live", "history", "dashboard", "audit"].includes(view)) view = "live";
    if ((view === "dashboard" || view === "audit") && this.me.role !== "supervisor") view = "live";
    for (const section of document.querySelectorAll("#app > .view")) {
      section.hidden = section.id !== `view-${view}`;
    }
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view === "history") this.views.history.load();
    if (view === "dashboard") this.views.dashboard.load();
    if (view === "audit") this.views.audit.load();
    const heading = document.querySelector(`#view-${view} h1`);
    if (location.hash) heading?.focus();
  }

  announce(text) {
    const region = $("#announce");
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }

  error(err) {
    this.announce(err.status === 409 || err.status === 403 ? err.message : `Error: ${err.message}`);
    const banner = document.querySelector("#conv-error") ?? this.makeBanner();
    banner.textContent = err.message;
    banner.hidden = false;
    setTimeout(() => { banner.hidden = true; }, 8000);
  }

  makeBanner() {
    const banner = document.createElement("p");
    banner.id = "conv-error";
    banner.className = "msg msg-error";
    banner.setAttribute("role", "alert");
    $("#main").prepend(banner);
    return banner;
  }
}

const app = new StaffConsole();
window.staffConsole = app;
app.start();
