// The supervisors' dashboard for a period: totals, and charts drawn here as SVG (no library,
// nothing fetched from elsewhere): sessions per hour, questions per language and per topic,
// hand-offs by outcome, latency p50/p95 per stage. Each chart has its numbers as a table too,
// for screen readers and for copying. CSV export of the same numbers.

import { HANDOFF_STATES, clear, el, isoDay, languageName } from "./console-format.js";

const SVG = "http://www.w3.org/2000/svg";
let chartCount = 0;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function dataTable(caption, head, rows) {
  return el("details", { className: "chart-data" }, el("summary", {}, `${caption}: the numbers`),
    el("table", { className: "data" },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => (i === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c))))))));
}

function figure(title, chart, table) {
  return el("figure", { className: "chart card" }, el("figcaption", {}, el("h2", {}, title)), chart, table);
}

/** Vertical bars over time (many bars; every n-th label). */
function columns(title, points) {
  const id = `chart-${++chartCount}`;
  const w = 1000;
  const h = 190;
  const pad = { l: 40, b: 30, t: 10, r: 10 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const bw = (w - pad.l - pad.r) / Math.max(1, points.length);
  const every = Math.max(1, Math.ceil(points.length / 12));
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-labelledby": `${id}-t`, class: "svg-chart" },
    svg("title", { id: `${id}-t` }, `${title}: highest ${max}`),
    svg("line", { x1: pad.l, y1: h - pad.b, x2: w - pad.r, y2: h - pad.b, class: "axis" }),
    svg("text", { x: pad.l - 6, y: pad.t + 10, "text-anchor": "end", class: "tick" }, max),
    svg("text", { x: pad.l - 6, y: h - pad.b, "text-anchor": "end", class: "tick" }, 0));
  points.forEach((p, i) => {
    const bh = ((h - pad.t - pad.b) * p.value) / max;
    const x = pad.l + i * bw;
    chart.append(svg("rect", { x: x + bw * 0.1, y: h - pad.b - bh, width: Math.max(1, bw * 0.8), height: bh, class: "bar" }));
    if (i % every === 0) {
      chart.append(svg("text", { x: x + bw / 2, y: h - pad.b + 14, "text-anchor": "middle", class: "tick" }, p.short ?? p.label));
    }
  });
  return figure(title, chart, dataTable(title, ["", "count"], points.filter((p) => p.value).map((p) => [p.label, p.value])));
}

/** Horizontal bars, one per label; `series` = [{name, cls}] for grouped bars. */
function rows(title, items, series = [{ key: "value", name: "count", cls: "bar" }], unit = "") {
  const id = `chart-${++chartCount}`;
  const w = 720;
  const rowH = 16 * series.length + 10;
  const labelW = 170;
  const h = Math.max(40, items.length * rowH + 24);
  const max = Math.max(1, ...items.flatMap((it) => series.map((s) => it[s.key] ?? 0)));
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-labelledby": `${id}-t`, class: "svg-chart" },
    svg("title", { id: `${id}-t` }, title));
  items.forEach((it, i) => {
    const y = 8 + i * rowH;
    chart.append(svg("text", { x: labelW - 8, y: y + 8 * series.length + 4, "text-anchor": "end", class: "label" }, it.label));
    series.forEach((s, j) => {
      const v = it[s.key];
      const bw = v == null ? 0 : ((w - labelW - 90) * v) / max;
      chart.append(svg("rect", { x: labelW, y: y + j * 16, width: Math.max(v ? 2 : 0, bw), height: 13, class: s.cls }));
      chart.append(svg("text", { x: labelW + bw + 6, y: y + j * 16 + 11, class: "value" },
        v == null ? "–" : `${v}${unit}${series.length > 1 ? ` ${s.name}` : ""}`));
    });
  });
  const head = ["", ...series.map((s) => s.name)];
  return figure(title, chart, dataTable(title, head, items.map((it) => [it.label, ...series.map((s) => it[s.key] ?? "–")])));
}

export class DashboardView {
  constructor(root, api, { onError }) {
    this.root = root;
    this.api = api;
    this.onError = onError;
    const until = new Date();
    this.since = el("input", { type: "date", id: "d-since", value: isoDay(new Date(until.getTime() - 6 * 86400000)) });
    this.until = el("input", { type: "date", id: "d-until", value: isoDay(until) });
    this.csv = el("a", { className: "btn", href: "#", download: "" }, "Download CSV");
    const form = el("form", { className: "filters" },
      el("div", { className: "field" }, el("label", { for: "d-since" }, "From"), this.since),
      el("div", { className: "field" }, el("label", { for: "d-until" }, "To"), this.until),
      el("button", { type: "submit", className: "btn btn-primary" }, "Show"), this.csv);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.load();
    });
    this.out = el("div", { className: "dashboard" });
    clear(root, el("h1", { id: "dash-title", tabindex: "-1" }, "Dashboard"), form, this.out);
  }

  async load() {
    const since = this.since.value;
    const until = this.until.value;
    this.csv.href = `/api/console/stats.csv?${new URLSearchParams({ since, until })}`;
    let d;
    try {
      d = await this.api.stats(since, until);
    } catch (err) {
      this.onError(err);
      return;
    }
    const pct = d.answer_rate == null ? "–" : `${Math.round(d.answer_rate * 100)} %`;
    const handoffs = Object.values(d.handoffs).reduce((a, b) => a + b, 0);
    const wait = d.handoff_wait_s;
    const tile = (label, value) => el("div", { className: "tile" }, el("p", { className: "tile-value" }, value), el("p", { className: "tile-label" }, label));
    // Up to two days: each hour of the period; longer: the hours of the day, summed over it.
    const timeline = d.sessions_per_hour.length <= 48;
    const hours = timeline
      ? d.sessions_per_hour.map((p) => ({ label: p.hour.replace("T", " "), short: `${p.hour.slice(11, 13)}h`, value: p.sessions }))
      : Array.from({ length: 24 }, (_, hh) => {
        const key = String(hh).padStart(2, "0");
        const value = d.sessions_per_hour.filter((p) => p.hour.slice(11, 13) === key).reduce((a, p) => a + p.sessions, 0);
        return { label: `${key}:00–${key}:59`, short: `${key}h`, value };
      });
    const byLang = Object.entries(d.questions_per_language).map(([k, v]) => ({ label: languageName(k), value: v }));
    const byTopic = Object.entries(d.questions_per_topic).map(([k, v]) => ({ label: k, value: v }));
    const byState = Object.entries(d.handoffs).map(([k, v]) => ({ label: HANDOFF_STATES[k] ?? k, value: v }));
    const names = { stt: "speech to text", lid: "language", retrieval: "retrieval", first_audio: "first audio", total: "whole turn" };
    const latency = Object.entries(d.latency_ms).map(([k, v]) => ({ label: names[k] ?? k, p50: v.p50, p95: v.p95 }));
    clear(this.out,
      el("div", { className: "tiles" },
        tile("sessions", String(d.sessions)), tile("questions", String(d.questions)),
        tile("answer rate", pct), tile("hand-offs", String(handoffs)),
        tile("median wait for staff", wait.p50 == null ? "–" : `${Math.round(wait.p50)} s`),
        tile("95th percentile wait", wait.p95 == null ? "–" : `${Math.round(wait.p95)} s`)),
      columns(timeline ? "Sessions per hour" : "Sessions per hour of the day (whole period)", hours),
      el("div", { className: "chart-pair" },
        rows("Questions per language", byLang),
        rows("Questions per topic", byTopic)),
      el("div", { className: "chart-pair" },
        rows("Hand-offs", byState),
        rows("Latency per stage (ms)", latency, [
          { key: "p50", name: "p50", cls: "bar" }, { key: "p95", name: "p95", cls: "bar bar-alt" }], " ms")));
  }
}
