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

// ---------------------------------------------------------------- more views

/**
 * Where JSON text breaks: {message, position, line, column}, or null when it is valid.
 * Browsers no longer say where in JSON.parse's message, so this scans it itself.
 */
export function jsonError(text) {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    const position = jsonErrorPosition(text);
    const before = text.slice(0, position).split("\n");
    const found = position < text.length ? `unexpected ${JSON.stringify(text[position])}` : "unexpected end";
    return { message: found, position, line: before.length, column: before.at(-1).length + 1 };
  }
}

const JSON_SPACE = /[ \t\r\n]*/y;
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_WORD = /true|false|null/y;

/** The offset of the first character that is not valid JSON (text.length: it ended). */
function jsonErrorPosition(text) {
  let at = 0;
  const skip = () => {
    JSON_SPACE.lastIndex = at;
    JSON_SPACE.exec(text);
    at = JSON_SPACE.lastIndex;
  };
  const token = (pattern) => {
    pattern.lastIndex = at;
    if (!pattern.exec(text)) return false;
    at = pattern.lastIndex;
    return true;
  };
  const fail = () => {
    throw at;
  };
  const value = (depth) => {
    skip();
    if (depth > 1000) fail();
    const c = text[at];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      at++;
      skip();
      if (text[at] === close) return void at++;
      for (;;) {
        if (c === "{") {
          skip();
          if (!token(JSON_STRING)) fail();
          skip();
          if (text[at] !== ":") fail();
          at++;
        }
        value(depth + 1);
        skip();
        if (text[at] === ",") at++;
        else if (text[at] === close) return void at++;
        else fail();
      }
    }
    if (!(token(JSON_STRING) || token(JSON_NUMBER) || token(JSON_WORD))) fail();
  };
  try {
    value(0);
    skip();
    return at < text.length ? at : text.length;
  } catch (position) {
    return position;
  }
}

function renderBrokenJson(text, error) {
  const where = error.line ? ` at line ${error.line}, column ${error.column}` : "";
  const notice = el("p", { class: "notice notice-warn json-error" }, el("strong", null, "Invalid JSON"), `${where}: ${error.message}`);
  const pre = el("pre", { class: "body-text code" });
  if (error.position === null || text.length > HIGHLIGHT_CAP) {
    pre.textContent = text;
  } else {
    const at = error.position;
    pre.append(text.slice(0, at), el("mark", { class: "json-error-at", title: "JSON.parse stopped here" }, text.slice(at, at + 1) || " "), text.slice(at + 1));
  }
  return el("div", null, notice, pre);
}

const TREE_NODES = 20000; // beyond this a tree would slow the page: the pretty view stays

function countNodes(value, limit) {
  let count = 0;
  const stack = [value];
  while (stack.length && count <= limit) {
    const item = stack.pop();
    count += 1;
    if (item !== null && typeof item === "object") stack.push(...Object.values(item));
  }
  return count;
}

function jsonKind(value) {
  if (value === null) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  return "boolean";
}

function treeNode(key, value, depth) {
  const label = key === null ? [] : [el("span", { class: "j-key" }, typeof key === "number" ? String(key) : JSON.stringify(key)), ": "];
  if (value === null || typeof value !== "object") {
    return el("div", { class: "tree-leaf" }, ...label, el("span", { class: `j-${jsonKind(value)}` }, JSON.stringify(value)));
  }
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  const size = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return el(
    "details",
    { class: "tree-node", open: depth < 2 },
    el("summary", null, ...label, el("span", { class: "muted" }, size)),
    el("div", { class: "tree-children" }, entries.map(([k, v]) => treeNode(k, v, depth + 1))),
  );
}

/** A collapsible tree of parsed JSON (numbers as JavaScript reads them: the JSON
 * view keeps every digit and duplicate keys). */
function renderTree(text) {
  const value = JSON.parse(text);
  if (countNodes(value, TREE_NODES) > TREE_NODES) {
    return el("p", { class: "notice" }, `This JSON has more than ${TREE_NODES.toLocaleString()} values: the JSON view shows it whole.`);
  }
  const tree = el("div", { class: "body-tree code" }, treeNode(null, value, 0));
  const toggle = (open) => () => tree.querySelectorAll("details").forEach((d) => (d.open = open));
  const expand = el("button", { type: "button", class: "btn btn-small" }, "Expand all");
  const collapse = el("button", { type: "button", class: "btn btn-small" }, "Collapse all");
  expand.addEventListener("click", toggle(true));
  collapse.addEventListener("click", toggle(false));
  return el("div", null, el("div", { class: "tree-tools" }, expand, collapse), tree);
}

function mediaParameter(contentType, name) {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*("([^"]*)"|[^;\\s]+)`, "i").exec(contentType || "");
  return match ? (match[2] ?? match[1]) : null;
}

export function isXmlType(contentType) {
  const type = mediaType(contentType);
  return type.endsWith("/xml") || type.endsWith("+xml");
}

/** XML re-indented, from the parsed document (nothing in it is run or fetched);
 * {text} or {error}. */
export function prettyXml(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const problem = doc.getElementsByTagName("parsererror")[0];
  if (problem) return { error: problem.textContent.trim() };
  const lines = [];
  const walk = (node, depth) => {
    const pad = "  ".repeat(depth);
    if (node.nodeType === Node.ELEMENT_NODE) {
      const attrs = [...node.attributes].map((a) => ` ${a.name}="${a.value.replace(/"/g, "&quot;")}"`).join("");
      const children = [...node.childNodes].filter((c) => c.nodeType !== Node.TEXT_NODE || c.data.trim());
      if (!children.length) lines.push(`${pad}<${node.nodeName}${attrs}/>`);
      else if (children.length === 1 && children[0].nodeType === Node.TEXT_NODE) {
        lines.push(`${pad}<${node.nodeName}${attrs}>${children[0].data.trim()}</${node.nodeName}>`);
      } else {
        lines.push(`${pad}<${node.nodeName}${attrs}>`);
        for (const child of children) walk(child, depth + 1);
        lines.push(`${pad}</${node.nodeName}>`);
      }
    } else if (node.nodeType === Node.TEXT_NODE) lines.push(pad + node.data.trim());
    else if (node.nodeType === Node.CDATA_SECTION_NODE) lines.push(`${pad}<![CDATA[${node.data}]]>`);
    else if (node.nodeType === Node.COMMENT_NODE) lines.push(`${pad}<!--${node.data}-->`);
    else if (node.nodeType === Node.PROCESSING_INSTRUCTION_NODE) lines.push(`${pad}<?${node.target} ${node.data}?>`);
  };
  for (const child of doc.childNodes) walk(child, 0);
  return { text: lines.join("\n") };
}

function renderXml(text) {
  const result = prettyXml(text);
  if (result.error) {
    return el("div", null, el("p", { class: "notice notice-warn" }, el("strong", null, "Invalid XML: "), result.error), renderText(text));
  }
  return el("pre", { class: "body-xml code" }, result.text);
}

function indexOf(bytes, needle, from) {
  outer: for (let i = from; i <= bytes.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const latin1 = new TextDecoder("latin1");

/** The parts of a multipart body: [{headers: [[name, value]], name, filename, type, bytes}]. */
export function multipartParts(bytes, boundary) {
  const delimiter = new TextEncoder().encode(`--${boundary}`);
  const parts = [];
  let at = indexOf(bytes, delimiter, 0);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (bytes[start] === 0x2d && bytes[start + 1] === 0x2d) break; // the closing --boundary--
    while (start < bytes.length && bytes[start] !== 0x0a) start++; // to the end of the line
    start++;
    const next = indexOf(bytes, delimiter, start);
    let end = next < 0 ? bytes.length : next;
    if (bytes[end - 1] === 0x0a) end--;
    if (bytes[end - 1] === 0x0d) end--;
    const part = bytes.subarray(start, Math.max(start, end));
    const split = indexOf(part, [0x0d, 0x0a, 0x0d, 0x0a], 0);
    const headEnd = split >= 0 ? split : indexOf(part, [0x0a, 0x0a], 0);
    const head = headEnd >= 0 ? latin1.decode(part.subarray(0, headEnd)) : "";
    const body = headEnd >= 0 ? part.subarray(headEnd + (split >= 0 ? 4 : 2)) : part;
    const headers = head
      .split(/\r?\n/)
      .filter((line) => line.includes(":"))
      .map((line) => [line.slice(0, line.indexOf(":")).trim(), line.slice(line.indexOf(":") + 1).trim()]);
    const disposition = (headers.find(([n]) => n.toLowerCase() === "content-disposition") || [, ""])[1];
    const type = (headers.find(([n]) => n.toLowerCase() === "content-type") || [, ""])[1];
    parts.push({
      headers,
      name: mediaParameter(disposition, "name"),
      filename: fileName(disposition),
      type,
      bytes: body,
    });
    if (next < 0) break;
    at = next;
  }
  return parts;
}

function fileName(disposition) {
  const extended = /;\s*filename\*\s*=\s*([^']*)'[^']*'([^;\s]+)/i.exec(disposition || "");
  if (extended) {
    try {
      return decodeURIComponent(extended[2]);
    } catch {
      // fall back to the plain filename
    }
  }
  return mediaParameter(disposition, "filename");
}

/** A name safe to save a download under: no folders, no control characters. */
export function safeFileName(name, fallback) {
  const cleaned = (name || "").replace(/[\u0000-\u001f\u007f/\\]/g, "_").replace(/^\.+/, "").slice(0, 200);
  return cleaned || fallback;
}

function downloadLink(bytes, filename, label) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  return el("a", { class: "btn btn-small", href: url, download: filename }, label);
}

function renderParts(bytes, boundary) {
  const parts = multipartParts(bytes, boundary);
  if (!parts.length) return el("p", { class: "muted" }, "No parts found for this boundary.");
  return el(
    "ol",
    { class: "parts" },
    parts.map((part, index) => {
      const text = part.bytes.length <= HEX_CAP ? utf8OrNull(part.bytes) : null;
      const label = part.filename !== null ? `${part.name ?? ""} (file ${part.filename})` : part.name ?? `part ${index + 1}`;
      return el(
        "li",
        { class: "part" },
        el(
          "div",
          { class: "part-head" },
          el("strong", null, label),
          el("span", { class: "muted" }, ` ${part.type || "no type"} · ${formatBytes(part.bytes.length)}`),
          part.filename !== null || text === null
            ? downloadLink(part.bytes, safeFileName(part.filename, `part-${index + 1}.bin`), "Download")
            : null,
        ),
        el("pre", { class: "part-headers code" }, part.headers.map(([n, v]) => `${n}: ${v}`).join("\n")),
        part.filename === null && text !== null ? el("pre", { class: "body-text code" }, text) : null,
      );
    }),
  );
}

function utf8OrNull(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const IMAGE_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/bmp",
  "image/avif",
  "image/x-icon",
  "image/vnd.microsoft.icon",
  "image/svg+xml",
]);

function renderImage(bytes, type) {
  // From a blob: in an <img>, an SVG's scripts never run.
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  return el("div", { class: "body-image" }, el("img", { src: url, alt: `The body, as ${type}` }));
}

/** Text in a declared charset other than UTF-8 (latin1, windows-1252, UTF-16, ...). */
function declaredText(bytes, contentType) {
  const charset = mediaParameter(contentType, "charset");
  if (!charset || /^utf-?8$/i.test(charset)) return null;
  try {
    return { charset, text: new TextDecoder(charset, { fatal: true }).decode(bytes) };
  } catch {
    return null;
  }
}

/**
 * The body section of a request's detail: notices, view tabs and the views.
 * `req` is the single-request API answer (body_text, body_base64, body_decoded...);
 * `onWholeBody()`, when the answer was a preview, loads the rest.
 */
export function renderBody(req, downloadUrl, { onWholeBody } = {}) {
  const section = el("div", { class: "body-view" });
  const kept = req.body_kept ?? decodeBase64(req.body_base64).length;

  if (req.body_truncated) {
    section.appendChild(
      el(
        "p",
        { class: "notice notice-warn body-truncated" },
        el("strong", null, "Body cut at capture. "),
        `The sender sent ${formatBytes(req.body_size)} (${req.body_size.toLocaleString()} bytes); ` +
          (kept ? `the first ${formatBytes(kept)} were kept.` : "it was refused unread, by its Content-Length."),
      ),
    );
  }
  if (!req.body_size && !kept) {
    section.appendChild(el("p", { class: "muted empty-body" }, "No body."));
    return section;
  }
  if (req.body_preview_cut) {
    const more = el("button", { type: "button", class: "btn btn-small" }, "Show the whole body");
    more.addEventListener("click", () => {
      more.disabled = true;
      more.textContent = "Loading…";
      onWholeBody?.();
    });
    const shownBytes = decodeBase64(req.body_base64).length;
    section.appendChild(
      el("p", { class: "notice body-preview" }, `Showing the first ${formatBytes(shownBytes)} of ${formatBytes(kept)}. `, more),
    );
  }
  const decoded = req.body_decoded;
  if (decoded?.error) section.appendChild(el("p", { class: "notice notice-warn" }, decoded.error));
  const content = decoded && !decoded.error ? decoded : null;
  if (content) {
    section.appendChild(
      el(
        "p",
        { class: "notice body-decoded" },
        `Decoded from ${req.content_encoding}: ${formatBytes(kept)} sent, ${formatBytes(content.size)} decoded` +
          (content.cut ? " (cut there: it would decode to more)." : "."),
      ),
    );
  }

  const text = content ? content.text : req.body_text;
  let bytes = null;
  const getBytes = () => (bytes ??= decodeBase64(content ? content.base64 : req.body_base64));
  let sentBytes = null;
  const getSentBytes = () => (sentBytes ??= decodeBase64(req.body_base64));
  const type = mediaType(req.content_type);
  const views = [];
  const hasText = text !== null && text !== undefined;
  if (hasText) {
    const trimmed = text.trim();
    if (trimmed && (isJsonType(type) || /^[[{]/.test(trimmed))) {
      const error = jsonError(trimmed);
      if (!error) {
        views.push({ id: "json", label: "JSON", render: () => renderJson(trimmed) });
        views.push({ id: "tree", label: "Tree", render: () => renderTree(trimmed) });
      }
      // A preview is cut JSON: say nothing of validity until the whole body is here.
      else if (isJsonType(type) && !req.body_preview_cut) {
        views.push({ id: "json", label: "JSON (invalid)", render: () => renderBrokenJson(trimmed, error) });
      }
    }
    if (!views.length && (isXmlType(type) || /^<\?xml[\s?]/.test(trimmed))) {
      views.push({ id: "xml", label: "XML", render: () => renderXml(text) });
    }
    if (isFormType(type)) views.push({ id: "form", label: "Form", render: () => renderForm(text) });
  }
  const boundary = type.startsWith("multipart/") ? mediaParameter(req.content_type, "boundary") : null;
  if (boundary) views.push({ id: "parts", label: "Parts", render: () => renderParts(getBytes(), boundary) });
  if (IMAGE_TYPES.has(type)) views.push({ id: "image", label: "Image", render: () => renderImage(getBytes(), type) });
  if (!hasText) {
    const declared = declaredText(getBytes(), req.content_type);
    if (declared) views.push({ id: "text", label: `Text (${declared.charset})`, render: () => renderText(declared.text) });
  }
  if (hasText) views.push({ id: "raw", label: views.length ? "Raw" : "Text", render: () => renderText(text) });
  if (!views.length) {
    section.appendChild(
      el("p", { class: "notice" }, "Binary body (not text), shown as a hex dump. Download it to open it with another tool."),
    );
  }
  views.push({ id: "hex", label: "Hex", render: () => renderHex(getBytes()) });
  if (content) views.push({ id: "sent", label: "Sent (hex)", render: () => renderHex(getSentBytes()) });

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
  if (hasText) {
    const copy = el("button", { type: "button", class: "btn btn-small" }, "Copy body");
    copy.addEventListener("click", () => copyWithFeedback(copy, text));
    actions.appendChild(copy);
  }
  actions.appendChild(el("a", { class: "btn btn-small", href: downloadUrl, download: "" }, content ? "Download as sent" : "Download"));
  if (content) actions.appendChild(downloadLink(getBytes(), `request-${req.id}-decoded.bin`, "Download decoded"));

  // A single view needs no switch; keep the toolbar's place for the actions.
  if (views.length === 1) tabs.hidden = true;
  toolbar.append(tabs, actions);
  section.append(toolbar, pane);
  show(views[0]);
  return section;
}
