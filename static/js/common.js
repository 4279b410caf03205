// Shared helpers for Inspector's pages. Everything rendered from captured data goes
// through el()/textContent: the data came from a stranger.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function cookie(name) {
  const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return match ? decodeURIComponent(match[1]) : null;
}

/** fetch() a JSON endpoint of our API (with a JSON `body`, or a `file`'s bytes); throws
 * ApiError with the API's error shape. */
export async function api(path, { method = "GET", body, file, signal } = {}) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, signal, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  } else if (file !== undefined) {
    options.body = file; // a File or Blob, sent as its bytes
  }
  if (method !== "GET" && method !== "HEAD") {
    const token = cookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Could not reach the server.");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || `The server answered ${response.status}.`,
    );
  }
  return data;
}

/**
 * Build an element: el("a", {class: "x", href: "/y", dataset: {id: 1}}, "text", child).
 * Strings become text nodes; null/false children and attributes are skipped.
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) throw new Error("el(): use addEventListener, not " + key);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** "Name: value" lines as [name, value] pairs; a line without a colon is an error. */
export function headerLines(text) {
  const pairs = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon < 1) throw new Error(`"${line}" is not "Name: value".`);
    pairs.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function plural(n, one, many = one + "s") {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** Date from our ISO 8601 strings (microseconds are cut to what Date keeps). */
export function parseTime(iso) {
  if (!iso) return null;
  const trimmed = iso.replace(/(\.\d{3})\d+/, "$1");
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? null : date;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Local time with milliseconds: "2025-11-23 14:03:05.123". */
export function formatLocalTime(iso) {
  const d = parseTime(iso);
  if (!d) return iso || "";
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** The browser's time zone as a short name, for labels: "UTC+1", "CET". */
export function timeZoneName(iso) {
  const d = parseTime(iso) || new Date();
  const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part ? part.value : "";
}

/** "just now", "42s ago", "5 min ago", "3 h ago", then a short date. */
export function relativeTime(iso, now = Date.now()) {
  const d = parseTime(iso);
  if (!d) return "";
  const seconds = Math.round((now - d.getTime()) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
  });
}

/** "in 6 days", "in 3 h", "in 12 min" (for expiry times). */
export function timeUntil(iso, now = Date.now()) {
  const d = parseTime(iso);
  if (!d) return "";
  const seconds = Math.round((d.getTime() - now) / 1000);
  if (seconds <= 0) return "now";
  if (seconds < 3600) return `in ${Math.max(1, Math.floor(seconds / 60))} min`;
  if (seconds < 172800) return `in ${Math.floor(seconds / 3600)} h`;
  return `in ${Math.round(seconds / 86400)} days`; // 6.99 days reads as 7
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** A badge for an HTTP method; any token is shown, known ones get their colour. */
export function methodBadge(method) {
  const known = METHODS.has(method) ? method.toLowerCase() : "other";
  return el("span", { class: `method method-${known}`, title: method }, method);
}

/**
 * Header values arrive decoded as latin-1 so every byte survives; show them as
 * UTF-8 where the bytes are valid UTF-8.
 */
export function latin1ToDisplay(value) {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  const bytes = Uint8Array.from(value, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return value;
  }
}

/** Copy text to the clipboard; falls back to select + execCommand. */
export async function copyText(text, input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the old way (permissions, unfocused document)
    }
  }
  let field = input;
  let temporary = false;
  if (!field || field.value !== text) {
    field = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    field.value = text;
    document.body.appendChild(field);
    temporary = true;
  }
  const active = document.activeElement;
  field.focus();
  field.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  if (temporary) field.remove();
  if (active && active !== field && typeof active.focus === "function") active.focus();
  return ok;
}

/** Copy and say so: on the button itself ("Copied") and to screen readers. */
export async function copyWithFeedback(button, text, input) {
  const ok = await copyText(text, input);
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = ok ? "Copied" : "Press Ctrl+C";
  button.classList.toggle("is-copied", ok);
  if (!ok && input) input.select();
  clearTimeout(button._copyTimer);
  button._copyTimer = setTimeout(() => {
    button.textContent = label;
    button.classList.remove("is-copied");
  }, 1600);
  announce(ok ? "Copied to the clipboard" : "Could not copy; select the text and copy it");
  return ok;
}

let toastTimer;

/** A short message at the bottom of the screen; kind "error" is styled as one. */
export function toast(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = el("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.appendChild(box);
  }
  box.textContent = message;
  box.dataset.kind = kind;
  box.classList.add("is-visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("is-visible"), kind === "error" ? 5000 : 2500);
}

function announce(message) {
  let region = document.getElementById("sr-status");
  if (!region) {
    region = el("div", { id: "sr-status", class: "sr-only", role: "status", "aria-live": "polite" });
    document.body.appendChild(region);
  }
  region.textContent = message;
}

// The bins this browser created or opened, newest first: [{id, name, created_at}].
const BINS_KEY = "inspector.bins";

export function loadBins() {
  try {
    const list = JSON.parse(localStorage.getItem(BINS_KEY) || "[]");
    return Array.isArray(list) ? list.filter((b) => b && typeof b.id === "string") : [];
  } catch {
    return [];
  }
}

function saveBins(list) {
  try {
    localStorage.setItem(BINS_KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: the list is a convenience only
  }
}

export function rememberBin(bin) {
  const entry = { id: bin.id, name: bin.name || "", created_at: bin.created_at || null };
  const list = loadBins();
  const index = list.findIndex((b) => b.id === bin.id);
  if (index >= 0) {
    const old = list[index];
    if (old.name === entry.name && old.created_at === entry.created_at) return;
    list[index] = entry;
  } else {
    list.unshift(entry);
  }
  saveBins(list);
}

export function forgetBin(id) {
  saveBins(loadBins().filter((b) => b.id !== id));
}

export function inspectPath(id) {
  return `/bins/${encodeURIComponent(id)}/`;
}
