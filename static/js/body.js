// Rendering of captured bodies: JSON (pretty, highlighted), form fields, text, hex dump.
// All of it from textContent; nothing captured is ever parsed as HTML.

import { copyWithFeedback, el, formatBytes } from "./common.js";

export const HEX_CAP = 64 * 1024; // bytes shown in a hex dump
const HIGHLIGHT_CAP = 512 * 1024; // beyond this JSON is pretty-printed without colours

/** Bytes from base64 (the detail API's body_base64). */
export function decodeBase64(b64) {
  if (!b64) return new Uint8Array(0);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function mediaType(contentType) {
  return (contentType || "").split(";")[0].trim().toLowerCase();
}

export function isJsonType(contentType) {
  const type = mediaType(contentType);
  return type === "application/json" || type.endsWith("+json") || type.endsWith("/json");
}

export function isFormType(contentType) {
  return mediaType(contentType) === "application/x-www-form-urlencoded";
}

// One JSON token (the text was validated by JSON.parse first, so this never has to
// reject anything). Strings use the unrolled-loop pattern to stay linear.
const TOKEN = /[ \t\r\n]*(?:("[^"\\]*(?:\\[\s\S][^"\\]*)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false)|(null)|([{}[\],:]))/y;

/**
 * Pretty-print JSON text as [kind, text] pieces, kind one of key, string, number,
 * boolean, null, punct. Works on the tokens of the original text, so big numbers
 * keep every digit and duplicate keys stay visible (JSON.parse would lose both).
 */
export function jsonPieces(text, indentUnit = "  ") {
  const tokens = [];
  TOKEN.lastIndex = 0;
  let match;
  while (TOKEN.lastIndex < text.length && (match = TOKEN.exec(text))) {
    if (match[1] !== undefined) tokens.push(["string", match[1]]);
    else if (match[2] !== undefined) tokens.push(["number", match[2]]);
    else if (match[3] !== undefined) tokens.push(["boolean", match[3]]);
    else if (match[4] !== undefined) tokens.push(["null", match[4]]);
    else if (match[5] !== undefined) tokens.push(["punct", match[5]]);
  }
  const pieces = [];
  let depth = 0;
  const newline = () => "\n" + indentUnit.repeat(depth);
  for (let i = 0; i < tokens.length; i++) {
    const [kind, value] = tokens[i];
    if (kind !== "punct") {
      const isKey = kind === "string" && tokens[i + 1] && tokens[i + 1][1] === ":";
      pieces.push([isKey ? "key" : kind, value]);
      continue;
    }
    if (value === "{" || value === "[") {
      const next = tokens[i + 1];
      if (next && next[0] === "punct" && (next[1] === "}" || next[1] === "]")) {
        pieces.push(["punct", value + next[1]]);
        i += 1;
      } else {
        depth += 1;
        pieces.push(["punct", value + newline()]);
      }
    } else if (value === "}" || value === "]") {
      depth -= 1;
      pieces.push(["punct", newline() + value]);
    } else if (value === ",") {
      pieces.push(["punct", "," + newline()]);
    } else {
      pieces.push(["punct", ": "]);
    }
  }
  return pieces;
}

/** Whole JSON text, or null when the text is not JSON. */
export function parseJsonText(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    JSON.parse(trimmed);
    return trimmed;
  } catch {
    return null;
  }
}

function renderJson(text) {
  const pre = el("pre", { class: "body-json code" });
  const pieces = jsonPieces(text);
  if (text.length > HIGHLIGHT_CAP) {
    pre.textContent = pieces.map((p) => p[1]).join("");
    return pre;
  }
  const fragment = document.createDocumentFragment();
  let plain = "";
  for (const [kind, value] of pieces) {
    if (kind === "punct") {
      plain += value;
      continue;
    }
    if (plain) {
      fragment.appendChild(document.createTextNode(plain));
      plain = "";
    }
    fragment.appendChild(el("span", { class: `j-${kind}` }, value));
  }
  if (plain) fragment.appendChild(document.createTextNode(plain));
  pre.appendChild(fragment);
  return pre;
}

/** [[name, value], ...] of an urlencoded form, repeated names kept in order. */
export function formFields(text) {
  return Array.from(new URLSearchParams(text.trim()));
}

function renderForm(text) {
  const fields = formFields(text);
  if (!fields.length) return el("p", { class: "muted" }, "The form has no fields.");
  return el(
    "table",
    { class: "kv body-form" },
    el("thead", null, el("tr", null, el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Value"))),
    el(
      "tbody",
      null,
      fields.map(([name, value]) =>
        el("tr", null, el("td", { class: "kv-name" }, name), el("td", { class: "kv-value" }, value)),
      ),
    ),
  );
}

function renderText(text) {
  return el("pre", { class: "body-text code" }, text);
}

const hex2 = (n) => n.toString(16).padStart(2, "0");

/** Three columns (offset, hex, ASCII) of at most HEX_CAP bytes. */
export function hexColumns(bytes) {
  const shown = Math.min(bytes.length, HEX_CAP);
  const offsets = [];
  const hex = [];
  const ascii = [];
  for (let start = 0; start < shown; start += 16) {
    const end = Math.min(start + 16, shown);
    let h = "";
    let a = "";
    for (let i = start; i < start + 16; i++) {
      if (i === start + 8) h += " ";
      if (i < end) {
        const b = bytes[i];
        h += hex2(b) + " ";
        a += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else {
        h += "   ";
      }
    }
    offsets.push(start.toString(16).padStart(8, "0"));
    hex.push(h.trimEnd());
    ascii.push(a);
  }
  return { offsets: offsets.join("\n"), hex: hex.join("\n"), ascii: ascii.join("\n"), shown };
}

function renderHex(bytes) {
  if (!bytes.length) return el("p", { class: "muted" }, "No bytes were kept.");
  const { offsets, hex, ascii, shown } = hexColumns(bytes);
  const dump = el(
    "div",
    { class: "body-hex code", role: "group", "aria-label": "Hex dump" },
    el("pre", { class: "hex-offset", "aria-hidden": "true" }, offsets),
    el("pre", { class: "hex-bytes" }, hex),
    el("pre", { class: "hex-ascii" }, ascii),
  );
  if (shown >= bytes.length) return dump;
  return el(
    "div",
    null,
    el(
      "p",
      { class: "notice" },
      `Showing the first ${formatBytes(shown)} of ${formatBytes(bytes.length)}. Download the body for the rest.`,
    ),
    dump,
  );
}

/**
 * The body section of a request's detail: notices, view tabs and the views.
 * `req` is the single-request API answer (with body_text and body_base64).
 */
export function renderBody(req, downloadUrl) {
  const section = el("div", { class: "body-view" });
  const base64 = req.body_base64 || "";
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  const keptBytes = Math.max(0, (base64.length / 4) * 3 - padding);

  if (req.body_truncated) {
    section.appendChild(
      el(
        "p",
        { class: "notice notice-warn body-truncated" },
        el("strong", null, "Body cut at capture. "),
        `The sender sent ${formatBytes(req.body_size)} (${req.body_size.toLocaleString()} bytes); ` +
          `the first ${formatBytes(keptBytes)} were kept.`,
      ),
    );
  }
  if (!req.body_size && !keptBytes) {
    section.appendChild(el("p", { class: "muted empty-body" }, "No body."));
    return section;
  }

  const text = req.body_text;
  let bytes = null;
  const getBytes = () => (bytes ??= decodeBase64(base64));
  const views = [];
  if (text !== null && text !== undefined) {
    const json = isJsonType(req.content_type) || /^\s*[[{]/.test(text) ? parseJsonText(text) : null;
    if (json !== null) views.push({ id: "json", label: "JSON", render: () => renderJson(json) });
    else if (isFormType(req.content_type)) views.push({ id: "form", label: "Form", render: () => renderForm(text) });
    views.push({ id: "raw", label: views.length ? "Raw" : "Text", render: () => renderText(text) });
  } else {
    section.appendChild(
      el(
        "p",
        { class: "notice" },
        "Binary body (not UTF-8 text), shown as a hex dump. Download it to open it with another tool.",
      ),
    );
  }
  views.push({ id: "hex", label: "Hex", render: () => renderHex(getBytes()) });

  const toolbar = el("div", { class: "body-toolbar" });
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Body view" });
  const pane = el("div", { class: "body-pane", role: "tabpanel" });
  const rendered = new Map();

  function show(view) {
    for (const button of tabs.children) {
      const active = button.dataset.view === view.id;
      button.setAttribute("aria-selected", String(active));
      button.tabIndex = active ? 0 : -1;
    }
    if (!rendered.has(view.id)) rendered.set(view.id, view.render());
    pane.replaceChildren(rendered.get(view.id));
    section.dataset.view = view.id;
  }

  for (const view of views) {
    const button = el("button", { type: "button", class: "tab", role: "tab", dataset: { view: view.id } }, view.label);
    button.addEventListener("click", () => show(view));
    tabs.appendChild(button);
  }
  tabs.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const buttons = [...tabs.children];
    const current = buttons.indexOf(document.activeElement);
    if (current < 0) return;
    const next = buttons[(current + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    next.click();
  });

  const actions = el("div", { class: "body-actions" });
  if (text !== null && text !== undefined) {
    const copy = el("button", { type: "button", class: "btn btn-small" }, "Copy body");
    copy.addEventListener("click", () => copyWithFeedback(copy, text));
    actions.appendChild(copy);
  }
  actions.appendChild(el("a", { class: "btn btn-small", href: downloadUrl, download: "" }, "Download"));

  // A single view needs no switch; keep the toolbar's place for the actions.
  if (views.length === 1) tabs.hidden = true;
  toolbar.append(tabs, actions);
  section.append(toolbar, pane);
  show(views[0]);
  return section;
}
