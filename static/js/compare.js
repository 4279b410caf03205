// Two requests side by side: the API's diff (bins/diff.py) as tables, built with
// textContent only.

import { el } from "./common.js";

function table(id, head, rows) {
  return el(
    "table",
    { class: "kv compare-table", id },
    el("thead", null, el("tr", null, head.map((name) => el("th", { scope: "col" }, name)))),
    el("tbody", null, rows.map((cells) => el("tr", null, cells.map((cell) => el("td", null, cell))))),
  );
}

const show = (value) => (value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));

function bodySection(body, a, b) {
  if (body.kind === "same") return el("p", { class: "muted" }, "The bodies are the same, byte for byte.");
  let content;
  if (body.kind === "json") {
    content = table(
      "compare-body",
      ["Path", "", `#${a}`, `#${b}`],
      body.changes.map((c) => [el("code", null, c.path), c.kind, show(c.a), show(c.b)]),
    );
  } else if (body.kind === "text") {
    content = el(
      "pre",
      { class: "code compare-lines", id: "compare-body" },
      body.changes.map((line) =>
        el("span", { class: line.startsWith("+") ? "line-added" : line.startsWith("-") ? "line-removed" : "" }, line + "\n"),
      ),
    );
  } else {
    content = table(
      "compare-body",
      ["", "Size", "SHA-256"],
      body.changes.map((c) => [`#${c.side === "a" ? a : b}`, `${c.size.toLocaleString()} bytes`, el("code", null, c.sha256)]),
    );
  }
  const more = body.more ? el("p", { class: "muted small" }, `And ${body.more.toLocaleString()} more.`) : null;
  return el("div", null, content, more);
}

/** The comparison of requests a and b (the API's diff answer); onClose() ends it. */
export function renderComparison(diff, onClose) {
  const close = el("button", { type: "button", class: "btn btn-small" }, "Close comparison");
  close.addEventListener("click", onClose);
  const { a, b } = diff;
  const same = !diff.fields.length && !diff.headers.length && diff.body.kind === "same";
  return el(
    "article",
    { class: "detail-body compare", id: "comparison" },
    el("header", { class: "detail-head" }, el("h3", null, `Request #${a} compared with #${b}`), close),
    same ? el("p", { class: "notice" }, "These two requests are the same (apart from their ids and times).") : null,
    diff.fields.length
      ? el("section", { class: "detail-section" }, el("h3", null, "Request"), table("compare-fields", ["", `#${a}`, `#${b}`], diff.fields.map((f) => [f.name, show(f.a), show(f.b)])))
      : null,
    el(
      "section",
      { class: "detail-section" },
      el("h3", null, "Headers"),
      diff.headers.length
        ? table("compare-headers", ["Name", `#${a}`, `#${b}`], diff.headers.map((h) => [h.name, h.a.join("\n"), h.b.join("\n")]))
        : el("p", { class: "muted" }, "The same headers, with the same values."),
    ),
    el("section", { class: "detail-section" }, el("h3", null, "Body"), bodySection(diff.body, a, b)),
  );
}
