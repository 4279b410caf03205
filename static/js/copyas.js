// "Copy as": a captured request as a command or code that sends it again. Each keeps
// the method, URL, headers (in order) and body bytes; a body that is not text is
// fetched from Inspector first (`downloadUrl`), so nothing is lost in quoting.

import { latin1ToDisplay } from "./common.js";

// The sending tool writes these itself, from the URL and the body.
const SKIPPED_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding"]);

function replayHeaders(req) {
  return (req.headers || [])
    .filter(([name]) => !SKIPPED_HEADERS.has(name.toLowerCase()))
    .map(([name, value]) => [name, latin1ToDisplay(value)]);
}

function hasTextBody(req) {
  return req.body_size > 0 && req.body_text !== null && req.body_text !== undefined;
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

/** The shell line that fetches a binary body into body.bin, then a continuation. */
function downloadFirst(downloadUrl) {
  return `curl -sS -o body.bin ${shellQuote(downloadUrl)} && \\\n  `;
}

/** curl, every argument quoted for a POSIX shell. */
export function curlCommand(req, downloadUrl) {
  const parts = ["curl"];
  if (req.method === "HEAD") parts.push("--head");
  else if (req.method !== "GET" || req.body_size) parts.push("-X", shellQuote(req.method));
  parts.push(shellQuote(req.url));
  const names = new Set();
  for (const [name, value] of replayHeaders(req)) {
    names.add(name.toLowerCase());
    parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  // curl adds these unless told not to; the original did not send them.
  for (const name of ["User-Agent", "Accept"]) {
    if (!names.has(name.toLowerCase())) parts.push("-H", shellQuote(`${name}:`));
  }
  if (!req.body_size) return parts.join(" ");
  // curl would say the body is a form; the original may have said nothing.
  if (!names.has("content-type")) parts.push("-H", shellQuote("Content-Type:"));
  if (hasTextBody(req)) {
    parts.push("--data-binary", shellQuote(req.body_text));
    return parts.join(" ");
  }
  parts.push("--data-binary", "@body.bin");
  return downloadFirst(downloadUrl) + parts.join(" ");
}

/** HTTPie (3.x): `Name:value` arguments; an empty `Name:` drops one of its defaults. */
export function httpieCommand(req, downloadUrl) {
  const parts = ["http", "--ignore-stdin", shellQuote(req.method), shellQuote(req.url)];
  const names = new Set();
  for (const [name, value] of replayHeaders(req)) {
    names.add(name.toLowerCase());
    parts.push(shellQuote(`${name}:${value}`));
  }
  for (const name of ["User-Agent", "Accept", "Accept-Encoding"]) {
    if (!names.has(name.toLowerCase())) parts.push(shellQuote(`${name}:`));
  }
  if (!req.body_size) return parts.join(" ");
  if (!names.has("content-type")) parts.push(shellQuote("Content-Type:"));
  if (hasTextBody(req)) {
    parts.push("--raw", shellQuote(req.body_text));
    return parts.join(" ");
  }
  parts.splice(1, 1); // the body comes on stdin
  return downloadFirst(downloadUrl) + parts.join(" ") + " < body.bin";
}

/** A Python bytes literal of `bytes` (a Uint8Array). */
export function pythonBytes(bytes) {
  let out = "b'";
  for (const byte of bytes) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += "\\x" + byte.toString(16).padStart(2, "0");
  }
  return out + "'";
}

function pythonString(value) {
  return JSON.stringify(value); // a JSON string is a valid Python str literal here
}

/** Python with requests. Repeated headers are joined with ", " (requests keeps one). */
export function pythonCode(req, bodyBytes) {
  const headers = new Map();
  for (const [name, value] of replayHeaders(req)) {
    const key = [...headers.keys()].find((known) => known.toLowerCase() === name.toLowerCase()) || name;
    headers.set(key, headers.has(key) ? `${headers.get(key)}, ${value}` : value);
  }
  const lower = new Set([...headers.keys()].map((name) => name.toLowerCase()));
  const lines = [...headers].map(([name, value]) => `    ${pythonString(name)}: ${pythonString(value)},`);
  // requests adds these unless they are None; the original did not send them.
  for (const name of ["User-Agent", "Accept", "Accept-Encoding"]) {
    if (!lower.has(name.toLowerCase())) lines.push(`    ${pythonString(name)}: None,`);
  }
  return [
    "import requests",
    "",
    "response = requests.request(",
    `    ${pythonString(req.method)},`,
    `    ${pythonString(req.url)},`,
    "    headers={",
    ...lines.map((line) => "    " + line),
    "    },",
    `    data=${pythonBytes(bodyBytes)},`,
    ")",
    "print(response.status_code, response.text)",
    "",
  ].join("\n");
}

// Headers a browser will not let a page set (the Fetch standard's forbidden names).
const FORBIDDEN = /^(accept-charset|accept-encoding|access-control-request-(headers|method)|connection|content-length|cookie|cookie2|date|dnt|expect|host|keep-alive|origin|referer|te|trailer|transfer-encoding|upgrade|via|proxy-.*|sec-.*)$/i;

/** JavaScript fetch(). Browsers refuse some headers (listed in a comment), and a page
 * on another origin needs the bin's CORS answers. */
export function fetchCode(req, bodyBytes) {
  const headers = replayHeaders(req);
  const allowed = headers.filter(([name]) => !FORBIDDEN.test(name));
  const dropped = headers.filter(([name]) => FORBIDDEN.test(name)).map(([name]) => name);
  const lines = [];
  if (dropped.length) lines.push(`// A browser does not let a page send: ${dropped.join(", ")}.`);
  lines.push(`const response = await fetch(${JSON.stringify(req.url)}, {`);
  lines.push(`  method: ${JSON.stringify(req.method)},`);
  lines.push(`  headers: [`);
  for (const [name, value] of allowed) lines.push(`    [${JSON.stringify(name)}, ${JSON.stringify(value)}],`);
  lines.push(`  ],`);
  if (bodyBytes.length) {
    if (hasTextBody(req)) lines.push(`  body: ${JSON.stringify(req.body_text)},`);
    else lines.push(`  body: Uint8Array.from(atob(${JSON.stringify(base64Of(bodyBytes))}), (c) => c.charCodeAt(0)),`);
  }
  lines.push("});");
  lines.push("console.log(response.status, await response.text());");
  return lines.join("\n") + "\n";
}

function base64Of(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The request as an HTTP/1.1 message, headers as they came (Host included). */
export function rawHttp(req) {
  const query = req.query_string ? `?${req.query_string}` : "";
  const lines = [`${req.method} /b/${req.bin}${req.path}${query} HTTP/1.1`];
  for (const [name, value] of req.headers || []) lines.push(`${name}: ${latin1ToDisplay(value)}`);
  let body = "";
  if (req.body_size) {
    body = hasTextBody(req)
      ? req.body_text
      : `[${req.body_size.toLocaleString()} bytes of binary body: download it to see them]`;
  }
  return lines.join("\r\n") + "\r\n\r\n" + body;
}
