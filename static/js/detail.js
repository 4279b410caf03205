// The detail pane of one captured request: summary, query, body and headers, plus
// "Copy as curl". Built with el()/textContent only.

import {
  copyWithFeedback,
  el,
  formatBytes,
  formatLocalTime,
  latin1ToDisplay,
  methodBadge,
  relativeTime,
  timeZoneName,
  toast,
} from "./common.js";
import { renderBody } from "./body.js";

/** A name/value table; rows named in `masked` show their value as masked. */
function kvTable(id, rows, names, masked = new Set()) {
  const valueCell = (name, value) =>
    masked.has(name)
      ? el("td", { class: "kv-value is-masked", title: "Masked: this bin hides the values of sensitive headers" }, value)
      : el("td", { class: "kv-value" }, value);
  return el(
    "table",
    { class: "kv", id },
    el("thead", null, el("tr", null, el("th", { scope: "col" }, names[0]), el("th", { scope: "col" }, names[1]))),
    el(
      "tbody",
      null,
      rows.map(([name, value]) => el("tr", null, el("td", { class: "kv-name" }, name), valueCell(name, value))),
    ),
  );
}

function section(title, count, ...content) {
  return el(
    "section",
    { class: "detail-section" },
    el("h3", null, title, count !== null ? el("span", { class: "count-pill" }, String(count)) : null),
    ...content,
  );
}

function metaItem(label, ...value) {
  return el("div", { class: "meta-item" }, el("dt", null, label), el("dd", null, ...value));
}

/**
 * The detail of one request (the single-request API answer). `apiBase` is the bin's
 * API path; `onDelete(id, button)` is called by the Delete button
 * (none without it).
 */
export function renderDetail(req, { apiBase, onDelete }) {
  const requestPath = `${apiBase}/requests/${encodeURIComponent(req.id)}`;
  const downloadUrl = `${requestPath}/body`;

  const copyUrl = el("button", { type: "button", class: "btn btn-small" }, "Copy URL");
  copyUrl.addEventListener("click", () => copyWithFeedback(copyUrl, req.url));
  const copyCurl = el("button", { type: "button", class: "btn btn-small" }, "Copy as curl");
  copyCurl.addEventListener("click", () => {
    copyWithFeedback(copyCurl, curlCommand(req, new URL(downloadUrl, location.href).href));
    if (req.body_truncated) toast("The body was cut at capture: the command sends what was kept.");
  });
  // Read-only viewers (a share link) get no Delete.
  const remove = onDelete
    ? el("button", { type: "button", class: "btn btn-small btn-danger", id: "delete-request" }, "Delete")
    : null;
  remove?.addEventListener("click", () => onDelete(req.id, remove));
  const masked = new Set(req.masked_headers || []);

  const headers = (req.headers || []).map(([name, value]) => [name, latin1ToDisplay(value)]);
  const query = req.query || [];

  return el(
    "article",
    { class: "detail-body" },
    el(
      "header",
      { class: "detail-head" },
      el("div", { class: "detail-line" }, methodBadge(req.method), el("span", { class: "detail-url" }, req.url)),
      el("div", { class: "detail-actions" }, copyUrl, copyCurl, remove),
    ),
    el(
      "dl",
      { class: "detail-meta" },
      metaItem(
        "Received",
        el("time", { datetime: req.received_at, title: req.received_at }, formatLocalTime(req.received_at)),
        el("span", { class: "muted" }, ` ${timeZoneName(req.received_at)} · `),
        el("time", { class: "muted", datetime: req.received_at, dataset: { relative: "" } }, relativeTime(req.received_at)),
      ),
      metaItem("From", el("span", { class: "mono" }, req.remote_addr || "unknown")),
      metaItem(
        "Size",
        formatBytes(req.body_size),
        req.body_size >= 1024 ? el("span", { class: "muted" }, ` (${req.body_size.toLocaleString()} bytes)`) : null,
        req.body_truncated ? el("span", { class: "tag tag-warn" }, "cut") : null,
      ),
      metaItem("Content type", el("span", { class: "mono" }, req.content_type || "none")),
      metaItem("Request", el("span", { class: "mono" }, `#${req.id}`)),
    ),
    query.length ? section("Query parameters", query.length, kvTable("query-table", query, ["Name", "Value"])) : null,
    section("Body", null, renderBody(req, downloadUrl)),
    section(
      "Headers",
      headers.length,
      headers.length
        ? kvTable("headers-table", headers, ["Name", "Value"], masked)
        : el("p", { class: "muted" }, "No headers."),
      masked.size
        ? el("p", { class: "muted small" }, "Values of sensitive headers are masked in this bin; its owner can show them.")
        : null,
    ),
  );
}

export function shellQuote(value) {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  // Control characters would be pasted into the terminal as they are: spell them out.
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(value)) {
    const escaped = value.replace(/[\\'\u0000-\u001f\u007f-\u009f]/g, (c) => {
      if (c === "\\" || c === "'") return "\\" + c;
      // \xHH are bytes: spell out the character's UTF-8 encoding.
      return Array.from(new TextEncoder().encode(c), (byte) => "\\x" + byte.toString(16).padStart(2, "0")).join("");
    });
    return `$'${escaped}'`;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const SKIPPED_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding"]);

/** A shell-safe curl command that replays the request (every argument quoted). */
export function curlCommand(req, downloadUrl) {
  const parts = ["curl"];
  if (req.method === "HEAD") parts.push("--head");
  else if (req.method !== "GET" || req.body_size) parts.push("-X", shellQuote(req.method));
  parts.push(shellQuote(req.url));
  for (const [name, value] of req.headers || []) {
    if (SKIPPED_HEADERS.has(name.toLowerCase())) continue;
    parts.push("-H", shellQuote(`${name}: ${latin1ToDisplay(value)}`));
  }
  let prefix = "";
  if (req.body_size) {
    if (req.body_text !== null && req.body_text !== undefined) {
      parts.push("--data-binary", shellQuote(req.body_text));
    } else {
      prefix = `curl -sS -o body.bin ${shellQuote(downloadUrl)} && \\\n  `;
      parts.push("--data-binary", "@body.bin");
    }
  }
  return prefix + parts.join(" ");
}
