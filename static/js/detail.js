// The detail pane of one captured request: summary, query, body and headers, plus
// "Copy as curl". Built with el()/textContent only.

import {
  copyText,
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
import { decodeBase64, renderBody } from "./body.js";
import { curlCommand, fetchCode, httpieCommand, pythonCode, rawHttp } from "./copyas.js";
import { gap } from "./deliveries.js";
import { signatureSection } from "./signature.js";

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
 * API path; `onDelete(id, button)` is called by the Delete button (none without it),
 * `onWholeBody()` by "Show the whole body" of a preview.
 */
export function renderDetail(req, { apiBase, onDelete, onWholeBody, attempts = [], onPick, onCompare }) {
  const requestPath = `${apiBase}/requests/${encodeURIComponent(req.id)}`;
  const downloadUrl = `${requestPath}/body`;

  const copyUrl = el("button", { type: "button", class: "btn btn-small" }, "Copy URL");
  copyUrl.addEventListener("click", () => copyWithFeedback(copyUrl, req.url));
  const copyAs = copyAsMenu(req, new URL(downloadUrl, location.href).href);
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
      el("div", { class: "detail-actions" }, copyUrl, copyAs, exportLink(requestPath), compareButton(req, onCompare), remove),
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
      req.body_sha256
        ? metaItem("SHA-256", el("span", { class: "mono sha", title: "SHA-256 of the body as stored" }, req.body_sha256))
        : null,
    ),
    attempts.length > 1 ? deliverySection(req, attempts, onPick) : null,
    signatureSection(req),
    query.length ? section("Query parameters", query.length, kvTable("query-table", query, ["Name", "Value"])) : null,
    section("Body", null, renderBody(req, downloadUrl, { onWholeBody })),
    responseSection(req),
    rawSection(req),
    section(
      "Headers",
      headers.length,
      headers.length
        ? kvTable("headers-table", headers, ["Name", "Value"], masked)
        : el("p", { class: "muted" }, "No headers."),
      masked.size
        ? el("p", { class: "muted small" }, "Values of sensitive headers are masked in this bin; its owner can show them.")
        : null,
      el(
        "p",
        { class: "muted small" },
        "Names (with their case), order and repeats are as sent; spaces around a value are not kept.",
      ),
    ),
  );
}

const COPY_AS = {
  curl: ["curl", (req, url) => curlCommand(req, url)],
  httpie: ["HTTPie", (req, url) => httpieCommand(req, url)],
  python: ["Python requests", (req) => pythonCode(req, decodeBase64(req.body_base64))],
  fetch: ["JavaScript fetch", (req) => fetchCode(req, decodeBase64(req.body_base64))],
  raw: ["raw HTTP", (req) => rawHttp(req)],
};

/** "Copy as…": a menu of commands and code that send the request again. */
function copyAsMenu(req, downloadUrl) {
  const menu = el(
    "select",
    { class: "btn btn-small copy-as", "aria-label": "Copy the request as" },
    el("option", { value: "" }, "Copy as…"),
    Object.entries(COPY_AS).map(([key, [label]]) => el("option", { value: key }, label)),
  );
  menu.addEventListener("change", async () => {
    const choice = COPY_AS[menu.value];
    menu.value = "";
    if (!choice) return;
    const [label, make] = choice;
    const ok = await copyText(make(req, downloadUrl));
    const cut = req.body_truncated ? " The body was cut at capture: it sends what was kept." : "";
    toast(ok ? `Copied as ${label}.${cut}` : "Could not copy: your browser refused.", ok ? "info" : "error");
  });
  return menu;
}

function exportLink(requestPath) {
  return el(
    "a",
    { class: "btn btn-small", href: `${requestPath}/export?format=har`, download: "", title: "Download as a HAR file" },
    "HAR",
  );
}

function rawSection(req) {
  const text = rawHttp(req);
  const copy = el("button", { type: "button", class: "btn btn-small" }, "Copy");
  copy.addEventListener("click", () => copyWithFeedback(copy, text));
  const pre = el("pre", { class: "code raw-http", id: "raw-http" }, text);
  const details = el("details", { class: "detail-section raw-section" }, el("summary", null, "Raw HTTP"), copy, pre);
  return details;
}

/** The attempts of this request's delivery (a provider's retries), with the time
 * between them; each is a click away. */
function deliverySection(req, attempts, onPick) {
  const items = attempts.map((attempt, index) => {
    const after = index ? gap(attempts[index - 1].at, attempt.at) : "first";
    const label = `Attempt ${index + 1}: #${attempt.id} · ${formatLocalTime(attempt.at?.toISOString())} · ${after}`;
    if (attempt.id === req.id) return el("li", { class: "attempt is-current" }, label + " (this one)");
    const button = el("button", { type: "button", class: "link-button" }, label);
    button.addEventListener("click", () => onPick?.(attempt.id));
    return el("li", { class: "attempt" }, button);
  });
  return section("Delivery", attempts.length, el("ol", { class: "attempts", id: "attempts" }, items));
}

function compareButton(req, onCompare) {
  if (!onCompare) return null;
  const button = el("button", { type: "button", class: "btn btn-small", id: "compare" }, "Compare…");
  button.addEventListener("click", () => onCompare(req.id));
  return button;
}

/** What the sender was answered: what the bin chose for it (and why), or ours. */
function responseSection(req) {
  const response = req.response;
  if (!response) {
    const ours = req.body_truncated
      ? "413, the body being over the limit (Inspector's own answer)."
      : `200 {"ok": true, "id": ${req.id}} (Inspector's default answer).`;
    return section("Response sent", null, el("p", { class: "muted", id: "response-sent" }, ours));
  }
  const delay = response.delay_ms ? ` after ${response.delay_ms.toLocaleString()} ms` : "";
  const why = response.rule
    ? el("p", { class: "muted", id: "response-why" }, "Matched rule: ", el("strong", null, response.rule))
    : response.failure
      ? el("p", { class: "muted", id: "response-why" }, `By the ${response.failure}.`)
      : response.proxy
        ? el(
            "p",
            { class: "muted", id: "response-why" },
            response.error ? `Proxy: ${response.error}` : "Proxy: the forward target's answer, passed on.",
          )
        : null;
  if (response.close) {
    const closed = `No answer: the connection was closed${delay}.`;
    return section("Response sent", null, el("div", { id: "response-sent" }, el("p", null, el("strong", null, closed)), why));
  }
  return section(
    "Response sent",
    null,
    el(
      "div",
      { id: "response-sent" },
      el("p", null, el("strong", null, String(response.status)), delay),
      why,
      response.headers.length ? kvTable("response-headers-table", response.headers, ["Name", "Value"]) : null,
      response.body_base64
        ? el("p", { class: "muted" }, "A body that is not text.")
        : response.body
          ? el("pre", { class: "code body-text" }, response.body)
          : el("p", { class: "muted" }, "No body."),
    ),
  );
}
