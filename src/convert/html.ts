/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts or network) that a browser
 * opens from disk. Fleet table, then per drive: sync statistics and clock models, sync error per
 * sensor over time, drop rate per sensor, event timeline, suggestion counts, warnings.
 */
import type { IndexEntry } from "./index-file.js";
import type { DriveReport } from "./report.js";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function num(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toPrecision(digits) : "–";
}

/** Line chart of named series of [x, y]. */
export function lineChart(title: string, series: { name: string; points: readonly (readonly [number, number])[] }[], yUnit: string): string {
  const W = 720, H = 220, L = 60, R = 150, T = 24, B = 30;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const xMin = Math.min(...all.map((p) => p[0])), xMax = Math.max(...all.map((p) => p[0]));
  const yMax = Math.max(...all.map((p) => p[1]), 1e-12);
  const x = (v: number): number => L + ((v - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const y = (v: number): number => H - B - (v / yMax) * (H - T - B);
  const lines = series
    .map((s, i) => `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.2" points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ")}"><title>${escapeHtml(s.name)}</title></polyline>`)
    .join("");
  const legend = series.map((s, i) => `<text x="${W - R + 10}" y="${T + 14 * i + 10}" fill="${PALETTE[i % PALETTE.length]}">${escapeHtml(s.name.slice(0, 22))}</text>`).join("");
  const axes = `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axis"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axis"/><text x="${L - 4}" y="${T + 4}" text-anchor="end">${num(yMax)} ${yUnit}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">0</text><text x="${L}" y="${H - 8}">${num(xMin)} s</text><text x="${W - R}" y="${H - 8}" text-anchor="end">${num(xMax)} s</text>`;
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${axes}${lines}${legend}</svg></figure>`;
}

/** Horizontal bar chart. */
export function barChart(title: string, bars: { label: string; value: number; text?: string }[]): string {
  if (bars.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const W = 720, row = 18, L = 260;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const H = bars.length * row + 8;
  const rects = bars
    .map((b, i) => {
      const w = (b.value / max) * (W - L - 90);
      return `<text x="${L - 6}" y="${i * row + 13}" text-anchor="end">${escapeHtml(b.label.slice(0, 40))}</text><rect x="${L}" y="${i * row + 3}" width="${Math.max(w, 0.5).toFixed(1)}" height="${row - 6}" fill="${PALETTE[i % PALETTE.length]}"/><text x="${L + w + 4}" y="${i * row + 13}">${escapeHtml(b.text ?? num(b.value))}</text>`;
    })
    .join("");
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${rects}</svg></figure>`;
}

/** Events on a time axis, one row per kind. */
export function timeline(title: string, events: DriveReport["events"], durationS: number): string {
  if (events.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no events</p></figure>`;
  const kinds = [...new Set(events.map((e) => e.kind))].sort();
  const W = 720, L = 160, row = 20, H = kinds.length * row + 30;
  const span = Math.max(durationS, ...events.map((e) => e.t + (e.durationS ?? 0)), 1e-9);
  const x = (t: number): number => L + (t / span) * (W - L - 10);
  const marks = events
    .map((e) => {
      const k = kinds.indexOf(e.kind);
      const color = PALETTE[k % PALETTE.length];
      const label = `${e.kind}${e.label ? `: ${e.label}` : ""} at ${num(e.t)} s`;
      return e.durationS !== undefined && e.durationS > 0
        ? `<rect x="${x(e.t).toFixed(1)}" y="${k * row + 5}" width="${Math.max(x(e.t + e.durationS) - x(e.t), 1).toFixed(1)}" height="${row - 10}" fill="${color}"><title>${escapeHtml(label)}</title></rect>`
        : `<circle cx="${x(e.t).toFixed(1)}" cy="${k * row + row / 2}" r="4" fill="${color}"><title>${escapeHtml(label)}</title></circle>`;
    })
    .join("");
  const labels = kinds.map((k, i) => `<text x="${L - 6}" y="${i * row + 14}" text-anchor="end">${escapeHtml(k)}</text>`).join("");
  const axis = `<line x1="${L}" y1="${H - 22}" x2="${W - 10}" y2="${H - 22}" class="axis"/><text x="${L}" y="${H - 6}">0 s</text><text x="${W - 10}" y="${H - 6}" text-anchor="end">${num(span)} s</text>`;
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${labels}${marks}${axis}</svg></figure>`;
}

function driveSection(report: DriveReport): string {
  const sync = lineChart(
    "Sync error per sensor over time",
    Object.entries(report.syncError).map(([name, s]) => ({ name, points: s.series.map(([t, e]) => [t, e * 1000] as const) })),
    "ms",
  );
  const drops = barChart(
    "Drop rate per sensor",
    report.sensors.map((s) => ({ label: s.name, value: s.count + s.drops > 0 ? s.drops / (s.count + s.drops) : 0, text: `${s.drops} of ${s.count + s.drops} (${s.rateHz.toFixed(1)} Hz)` })),
  );
  const events = timeline("Event timeline", report.events, report.durationS);
  const suggestions = barChart("Suggestion counts", Object.entries(report.suggestions).map(([label, value]) => ({ label, value, text: String(value) })));
  const stats = Object.entries(report.syncError)
    .map(([name, s]) => `<tr><td>${escapeHtml(name)}</td><td>${num(s.p50 * 1000)}</td><td>${num(s.p99 * 1000)}</td><td>${num(s.max * 1000)}</td></tr>`)
    .join("");
  const clocks = report.clockModels
    .map((c) => `<tr><td>${escapeHtml(c.sensor)}</td><td>${num(c.offsetS * 1000)}</td><td>${num(c.driftPpm)}</td><td>${c.latencyS !== undefined ? num(c.latencyS * 1000) : "–"}</td><td>${c.jitterS !== undefined ? num(c.jitterS * 1000) : "–"}</td><td>${c.steps ?? "–"}</td><td>${c.converged === undefined ? "–" : c.converged ? "yes" : "no"}</td></tr>`)
    .join("");
  const clockTable = clocks ? `<table><tr><th>clock model</th><th>offset ms</th><th>drift ppm</th><th>latency ms</th><th>jitter ms</th><th>steps</th><th>converged</th></tr>${clocks}</table>` : "";
  const warnings = report.warnings.length > 0 ? `<details><summary>${report.warnings.length} warnings</summary><ul>${report.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul></details>` : "";
  return `<section id="${escapeHtml(report.drive)}"><h2>${escapeHtml(report.drive)}</h2><p>${escapeHtml(report.input)} · ${escapeHtml(report.format)} · ${num(report.durationS)} s · ${report.messageCount} messages · ${report.frames} frames</p>${
    stats ? `<table><tr><th>sensor</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>${stats}</table>` : ""
  }${clockTable}${sync}${drops}${events}${suggestions}${warnings}</section>`;
}

/** Input MB/s of a drive converted in this run (elapsed wall time on its worker). */
function rate(e: IndexEntry): string | undefined {
  if (e.status !== "converted" || e.elapsedS === undefined || e.elapsedS <= 0 || e.inputBytes === undefined) return undefined;
  return num(e.inputBytes / 1e6 / e.elapsedS);
}

/**
 * Input MB/s over the fleet run, for the whole fleet and per worker: each converted drive's input
 * bytes spread evenly over its own conversion interval (completedAt − elapsedS … completedAt), summed
 * into `bins` equal bins from the first drive's start to the last one's end. Steps (two points per
 * bin) in seconds since the first start. Empty when fewer than two drives have times.
 */
export function throughputOverTime(entries: readonly IndexEntry[], bins = 40): { name: string; points: [number, number][] }[] {
  const spans: { worker: string; start: number; end: number; bytes: number }[] = [];
  for (const e of entries) {
    if (e.status !== "converted" || e.completedAt === undefined || e.elapsedS === undefined || e.inputBytes === undefined) continue;
    const end = Date.parse(e.completedAt) / 1000;
    if (!Number.isFinite(end)) continue;
    spans.push({ worker: e.worker ?? "this machine", start: end - Math.max(e.elapsedS, 1e-3), end, bytes: e.inputBytes });
  }
  if (spans.length < 2) return [];
  const t0 = Math.min(...spans.map((d) => d.start));
  const t1 = Math.max(...spans.map((d) => d.end));
  const width = (t1 - t0) / bins;
  if (!(width > 0)) return [];
  const series = new Map<string, number[]>([["fleet", new Array<number>(bins).fill(0)]]);
  for (const d of spans) {
    const perS = d.bytes / 1e6 / (d.end - d.start);
    const own = series.get(d.worker) ?? new Array<number>(bins).fill(0);
    series.set(d.worker, own);
    for (let b = Math.max(0, Math.floor((d.start - t0) / width)); b < bins; b++) {
      const lo = t0 + b * width;
      if (lo >= d.end) break;
      const overlap = Math.min(d.end, lo + width) - Math.max(d.start, lo);
      if (overlap <= 0) continue;
      const mbps = (perS * overlap) / width;
      own[b]! += mbps;
      series.get("fleet")![b]! += mbps;
    }
  }
  // Per-worker lines only while they stay readable.
  const names = series.size - 1 <= 8 ? [...series.keys()] : ["fleet"];
  return names.map((name) => ({ name, points: series.get(name)!.flatMap((v, b) => [[b * width, v] as [number, number], [(b + 1) * width, v] as [number, number]]) }));
}

/**
 * Per worker of a fleet run (`convert --queue`): drives, input MB, busy time, MB/s, failures; and the
 * fleet's throughput (input MB over the span from the first drive's start to the last one's end).
 */
function fleetSection(entries: readonly IndexEntry[]): string {
  const done = entries.filter((e) => e.worker !== undefined && e.status === "converted");
  if (done.length === 0) return "";
  const by = new Map<string, { drives: number; bytes: number; busyS: number }>();
  let first = Infinity;
  let last = -Infinity;
  for (const e of done) {
    const w = by.get(e.worker!) ?? { drives: 0, bytes: 0, busyS: 0 };
    w.drives++;
    w.bytes += e.inputBytes ?? 0;
    w.busyS += e.elapsedS ?? 0;
    by.set(e.worker!, w);
    const end = e.completedAt !== undefined ? Date.parse(e.completedAt) : NaN;
    if (Number.isFinite(end)) {
      last = Math.max(last, end);
      first = Math.min(first, end - (e.elapsedS ?? 0) * 1000);
    }
  }
  const failed = entries.filter((e) => e.status === "failed").length;
  const total = done.reduce((sum, e) => sum + (e.inputBytes ?? 0), 0);
  const spanS = last > first ? (last - first) / 1000 : NaN;
  const rows = [...by.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([name, w]) => `<tr><td>${escapeHtml(name)}</td><td>${w.drives}</td><td>${num(w.bytes / 1e6)}</td><td>${num(w.busyS)}</td><td>${w.busyS > 0 ? num(w.bytes / 1e6 / w.busyS) : "–"}</td></tr>`)
    .join("");
  return `<h2>Fleet</h2><p>${by.size} workers · ${done.length} drives converted, ${failed} failed · ${num(total / 1e6)} MB${Number.isFinite(spanS) && spanS > 0 ? ` in ${num(spanS)} s: ${num(total / 1e6 / spanS)} MB/s` : ""}</p><table><tr><th>worker</th><th>drives</th><th>input MB</th><th>busy s</th><th>MB/s</th></tr>${rows}</table>${lineChart("throughput over time (input MB/s; each drive's bytes spread over its conversion)", throughputOverTime(done), "MB/s")}`;
}

export function renderBatchHtml(entries: readonly IndexEntry[], reports: readonly DriveReport[], generatedAt: string): string {
  const fleet = entries.some((e) => e.worker !== undefined);
  const rows = entries
    .map((e) => {
      const q = e.quality;
      return `<tr class="${e.status}"><td>${reports.some((r) => r.drive === e.drive) ? `<a href="#${escapeHtml(e.drive)}">${escapeHtml(e.drive)}</a>` : escapeHtml(e.drive)}</td><td>${e.status}</td><td>${e.durationS !== undefined ? num(e.durationS) : "–"}</td><td>${e.messageCount ?? "–"}</td><td>${e.sensors?.length ?? "–"}</td><td>${q?.syncErrorP99MaxS != null ? num(q.syncErrorP99MaxS * 1000) : "–"}</td><td>${q ? (q.dropRate * 100).toFixed(2) + "%" : "–"}</td><td>${q?.suggestions ?? "–"}</td><td>${e.elapsedS !== undefined && e.status === "converted" ? num(e.elapsedS) : "–"}</td><td>${rate(e) ?? "–"}</td>${fleet ? `<td>${escapeHtml(e.worker ?? "–")}</td>` : ""}<td>${escapeHtml(e.error ? `${e.error.kind}: ${e.error.reason}` : q ? `${q.warnings} warnings` : "")}</td></tr>`;
    })
    .join("");
  const css = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}tr.failed{background:#fdd}tr.skipped{color:#666}svg text{font:11px sans-serif;fill:#333}.axis{stroke:#999}.empty{color:#888}figure{margin:1em 0}figcaption{font-weight:600}section{border-top:2px solid #eee;margin-top:2em}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>syncbag conversion report</title><style>${css}</style></head><body><h1>syncbag conversion report</h1><p>${escapeHtml(generatedAt)} · ${entries.length} drives</p><table><tr><th>drive</th><th>status</th><th>duration s</th><th>messages</th><th>sensors</th><th>sync p99 max ms</th><th>drop rate</th><th>suggestions</th><th>time s</th><th>MB/s</th>${fleet ? "<th>worker</th>" : ""}<th>notes</th></tr>${rows}</table>${fleetSection(entries)}${reports.map(driveSection).join("")}</body></html>\n`;
}
