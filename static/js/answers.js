// The owner's rules and failure script (in "Settings & sharing"): what the bin answers
// beyond its one response. The server checks everything saved (bins/responses.py) and
// its error says which rule and field to fix.

import { api, el, headerLines, toast } from "./common.js";

const $ = (selector) => document.querySelector(selector);
const CONDITION = /^(query|header|json)\s+(\S(?:.*?\S)?)\s*=\s*(.*)$/;
const CONDITION_FIELDS = { query: "query", header: "headers", json: "json" };

/** A rule's conditions as the lines the editor shows: "query hub.mode = subscribe". */
function conditionLines(when) {
  const lines = [];
  for (const [kind, field] of Object.entries(CONDITION_FIELDS)) {
    for (const [name, pattern] of Object.entries(when[field] || {})) lines.push(`${kind} ${name} = ${pattern}`);
  }
  return lines.join("\n");
}

function parseConditions(text, where) {
  const when = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const match = line.trim().match(CONDITION);
    if (!match) throw new Error(`${where}: "${line.trim()}" is not "query|header|json name = pattern".`);
    const field = CONDITION_FIELDS[match[1]];
    when[field] = { ...(when[field] || {}), [match[2]]: match[3] };
  }
  return when;
}

function field(label, input) {
  return el("label", { class: "rule-field" }, el("span", { class: "muted small" }, label), input);
}

function ruleCard(rule, index) {
  const response = rule.response || { status: 200, headers: [], body: "", delay_ms: 0 };
  const when = rule.when || {};
  const input = (name, value, attrs = {}) =>
    el("input", { type: "text", spellcheck: "false", "data-field": name, value: value ?? "", ...attrs });
  const area = (name, value, rows) =>
    el("textarea", { rows, spellcheck: "false", "data-field": name }, value ?? "");
  return el(
    "li",
    { class: "rule-card", "data-index": index },
    el(
      "div",
      { class: "rule-head" },
      input("name", rule.name, { "aria-label": "Rule name", class: "rule-name", maxlength: 100 }),
      el("button", { type: "button", class: "btn btn-small", "data-move": "-1", title: "Move up" }, "↑"),
      el("button", { type: "button", class: "btn btn-small", "data-move": "1", title: "Move down" }, "↓"),
      el("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-remove": "" }, "Remove"),
    ),
    el(
      "div",
      { class: "rule-grid" },
      field("Method", input("method", when.method, { placeholder: "any", maxlength: 20 })),
      field("Path", input("path", when.path, { placeholder: "any, or /github/*" })),
      field("Status", input("status", response.status, { type: "number", min: 200, max: 599 })),
      field("Delay, ms", input("delay_ms", response.delay_ms, { type: "number", min: 0 })),
    ),
    field("Conditions, one a line", area("conditions", conditionLines(when), 2)),
    field("Headers, one a line", area("headers", response.headers.map(([n, v]) => `${n}: ${v}`).join("\n"), 2)),
    field("Body", area("body", response.body, 3)),
  );
}

function readCard(card, number) {
  const value = (name) => card.querySelector(`[data-field="${name}"]`).value;
  const where = `rule ${number}`;
  const when = parseConditions(value("conditions"), where);
  if (value("method").trim()) when.method = value("method").trim();
  if (value("path").trim()) when.path = value("path").trim();
  let headers;
  try {
    headers = headerLines(value("headers"));
  } catch (err) {
    throw new Error(`${where}: ${err.message}`);
  }
  return {
    name: value("name").trim(),
    when,
    response: { status: Number(value("status")), delay_ms: Number(value("delay_ms")), headers, body: value("body") },
  };
}

/** Wire the rules and failure-script blocks; onBin(bin) after each change. */
export function setupAnswers({ apiBase, onBin, bin: initialBin }) {
  const list = $("#rule-list");
  if (!list) return;
  const errorBox = $("#rules-error");
  let rules = initialBin.rules || [];

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function render() {
    list.replaceChildren(...rules.map(ruleCard));
    $("#rules-empty").hidden = rules.length > 0;
  }

  /** The cards as rules; keeps what is typed when cards move or go. */
  function read() {
    return [...list.children].map((card, i) => readCard(card, i + 1));
  }

  function edited(change) {
    try {
      rules = read();
    } catch (err) {
      showError(err.message);
      return;
    }
    change();
    render();
    $("#rules-state").textContent = "Not saved yet.";
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const index = Number(button.closest(".rule-card").dataset.index);
    if (button.dataset.move) {
      const to = index + Number(button.dataset.move);
      if (to < 0 || to >= list.children.length) return;
      edited(() => rules.splice(to, 0, rules.splice(index, 1)[0]));
    } else if ("remove" in button.dataset) {
      edited(() => rules.splice(index, 1));
    }
  });
  list.addEventListener("input", () => {
    $("#rules-state").textContent = "Not saved yet.";
  });

  $("#rule-add").addEventListener("click", () =>
    edited(() =>
      rules.push({
        name: `rule ${rules.length + 1}`,
        when: { method: "POST" },
        response: { status: 200, headers: [["Content-Type", "application/json"]], body: '{"ok": true}', delay_ms: 0 },
      }),
    ),
  );

  function saved(bin, message) {
    rules = bin.rules;
    render();
    showError("");
    $("#rules-state").textContent = "";
    onBin(bin);
    toast(message);
  }

  $("#rules-save").addEventListener("click", async () => {
    let wanted;
    try {
      wanted = read();
    } catch (err) {
      showError(err.message);
      return;
    }
    try {
      const bin = await api(apiBase, { method: "PATCH", body: { rules: wanted } });
      saved(bin, wanted.length ? "Saved the rules: the bin answers by them now." : "No rules now.");
    } catch (err) {
      showError(err.message);
    }
  });

  const presetSelect = $("#preset-select");
  const presetValue = $("#preset-value");
  function showPresetValue() {
    const asks = presetSelect.selectedOptions[0]?.dataset.asks || "";
    presetValue.hidden = !asks;
    presetValue.placeholder = asks;
    presetValue.setAttribute("aria-label", asks || "value");
  }
  presetSelect.addEventListener("change", showPresetValue);
  showPresetValue();
  $("#preset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = { preset: presetSelect.value, value: presetValue.value };
      const bin = await api(`${apiBase}/presets`, { method: "POST", body });
      presetValue.value = "";
      saved(bin, `Added: ${presetSelect.selectedOptions[0].textContent.trim()}.`);
    } catch (err) {
      showError(err.message);
    }
  });

  render();
  setupFailures({ apiBase, onBin, bin: initialBin });
}

function setupFailures({ apiBase, onBin, bin: initialBin }) {
  const form = $("#failures-form");
  const which = $("#failures-which");
  const how = $("#failures-how");

  function showFields() {
    for (const label of form.querySelectorAll("label[data-for]")) {
      label.hidden = !which.value || (label.dataset.for !== which.value && label.dataset.for !== how.value);
    }
    how.disabled = !which.value;
  }

  function describe(bin) {
    const script = bin.failures;
    if (!script) return "Off: requests are answered by the rules and response.";
    const from = "counting from when it was saved";
    const picked = {
      first: `The first ${script.count}`,
      percent: `${script.percent}% of requests`,
      all: "Every request",
    }[script.which];
    return `On: ${picked} ${script.which === "all" ? "fails" : "fail"}, ${from}.`;
  }

  function show(bin) {
    const script = bin.failures;
    which.value = script ? script.which : "";
    if (script) {
      how.value = script.how;
      if (script.count) $("#failures-count").value = script.count;
      if (script.percent) $("#failures-percent").value = script.percent;
      if (script.status) $("#failures-status").value = script.status;
      if (script.retry_after !== undefined) $("#failures-retry").value = script.retry_after;
    }
    $("#failures-state").textContent = describe(bin);
    showFields();
  }

  which.addEventListener("change", showFields);
  how.addEventListener("change", showFields);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let failures = null;
    if (which.value) {
      failures = { which: which.value, how: how.value };
      if (which.value === "first") failures.count = Number($("#failures-count").value);
      if (which.value === "percent") failures.percent = Number($("#failures-percent").value);
      if (how.value === "error") failures.status = Number($("#failures-status").value);
      if (how.value === "rate_limit") failures.retry_after = Number($("#failures-retry").value);
    }
    try {
      const bin = await api(apiBase, { method: "PATCH", body: { failures } });
      onBin(bin);
      show(bin);
      toast(failures ? "The failure script is on." : "The failure script is off.");
    } catch (err) {
      $("#failures-state").textContent = err.message;
    }
  });
  show(initialBin);
}
