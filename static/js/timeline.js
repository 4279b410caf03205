// The timeline above the list: arrivals per second, minute, hour or day (the server
// picks, bins/timeline.py), stacked by method in the methods' colours, drawn on a
// canvas. A click on a bar narrows the list to that interval; arrivals add live.

import { api, formatLocalTime } from "./common.js";

const MAX_BARS = 120; // as the server's: past it, the server picks a larger step
const MIN_SLOTS = 40; // room for this many bars at least
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const UNIT_NAMES = { second: "second", minute: "minute", hour: "hour", day: "day" };

export function createTimeline({ canvas, label, apiBase, searchParam, onRange }) {
  let data = null; // {unit, step, buckets: [{start, counts}]}, buckets by start
  let bars = []; // what is drawn: [{start (ms), counts, total}]
  let slot = 1; // CSS pixels per bar
  let offset = 0; // where the first bar starts
  let loading = null;

  // The methods' colours from the stylesheet, read once per draw: reading computed
  // styles for every bar made each live arrival cost a style recalculation per bar.
  let colours = null;
  function colour(method) {
    const name = METHODS.includes(method) ? method.toLowerCase() : "other";
    if (!colours.has(name)) {
      colours.set(name, getComputedStyle(document.documentElement).getPropertyValue(`--m-${name}`).trim() || "#888");
    }
    return colours.get(name);
  }

  async function load() {
    const current = (loading = api(`${apiBase}/timeline${searchParam().replace(/^&/, "?")}`));
    try {
      const answer = await current;
      if (current === loading) {
        data = answer;
        draw();
      }
    } catch {
      // the list says what went wrong; the timeline just stays as it was
    }
  }

  /** Requests that arrived live (those the list shows). */
  function add(requests) {
    if (!data || !requests.length) return;
    const stepMs = data.step * 1000;
    for (const req of requests) {
      const at = Date.parse(req.received_at);
      if (Number.isNaN(at)) continue;
      const start = Math.floor(at / stepMs) * stepMs;
      let bucket = data.buckets.find((b) => Date.parse(b.start) === start);
      if (!bucket) {
        bucket = { start: new Date(start).toISOString(), counts: {} };
        data.buckets.push(bucket);
        data.buckets.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      }
      bucket.counts[req.method] = (bucket.counts[req.method] || 0) + 1;
    }
    const first = Date.parse(data.buckets[0].start);
    const last = Date.parse(data.buckets.at(-1).start);
    if ((last - first) / stepMs >= MAX_BARS) load(); // time for a larger step
    else drawSoon();
  }

  let frame = null;
  /** One redraw per animation frame, however many arrivals came in it. */
  function drawSoon() {
    if (frame === null) {
      frame = requestAnimationFrame(() => {
        frame = null;
        draw();
      });
    }
  }

  function draw() {
    const buckets = data?.buckets || [];
    canvas.hidden = label.hidden = !buckets.length;
    if (!buckets.length) return;
    const stepMs = data.step * 1000;
    const first = Date.parse(buckets[0].start);
    const count = Math.round((Date.parse(buckets.at(-1).start) - first) / stepMs) + 1;
    const byStart = new Map(buckets.map((b) => [Date.parse(b.start), b.counts]));
    bars = Array.from({ length: count }, (_, i) => {
      const start = first + i * stepMs;
      const counts = byStart.get(start) || {};
      return { start, counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
    });
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 40;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    colours = new Map();
    ctx.scale(ratio, ratio);
    ctx.clearRect(0, 0, width, height);
    const peak = Math.max(...bars.map((b) => b.total), 1);
    // A young bin has few bars: they keep a readable width, the newest on the right.
    slot = width / Math.max(bars.length, MIN_SLOTS);
    offset = width - slot * bars.length;
    const barWidth = Math.max(1, slot - (slot > 4 ? 1 : 0));
    bars.forEach((bar, i) => {
      let y = height;
      for (const [method, n] of Object.entries(bar.counts)) {
        const h = (n / peak) * (height - 2);
        ctx.fillStyle = colour(method);
        ctx.fillRect(offset + i * slot, y - h, barWidth, h);
        y -= h;
      }
    });
    const total = bars.reduce((a, b) => a + b.total, 0);
    const from = formatLocalTime(new Date(first).toISOString());
    const to = formatLocalTime(new Date(bars.at(-1).start + stepMs).toISOString());
    label.textContent =
      `${total.toLocaleString()} ${total === 1 ? "request" : "requests"} in bars of a ${UNIT_NAMES[data.unit]}, ` +
      `${from} to ${to} · click a bar to see its requests`;
  }

  function barAt(event) {
    if (!bars.length) return null;
    const x = event.clientX - canvas.getBoundingClientRect().left - offset;
    if (x < 0) return null;
    return bars[Math.min(bars.length - 1, Math.floor(x / slot))];
  }

  canvas.addEventListener("mousemove", (event) => {
    const bar = barAt(event);
    if (!bar) return;
    const parts = Object.entries(bar.counts).map(([m, n]) => `${m} ${n}`);
    canvas.title = `${formatLocalTime(new Date(bar.start).toISOString())}: ${bar.total} ${bar.total === 1 ? "request" : "requests"}${parts.length ? ` (${parts.join(", ")})` : ""}`;
  });
  canvas.addEventListener("click", (event) => {
    const bar = barAt(event);
    if (!bar) return;
    const end = bar.start + data.step * 1000;
    onRange(new Date(bar.start).toISOString(), new Date(end).toISOString());
  });
  window.addEventListener("resize", () => data && draw());

  return { load, add };
}
