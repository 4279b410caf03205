// The owner's "Settings & sharing" panel: private switch, header masking, share links
// and API tokens (each secret shown once: the server keeps only its hash).

import { setupAnswers } from "./answers.js";
import { api, el, formatLocalTime, headerLines, relativeTime, toast } from "./common.js";

const $ = (selector) => document.querySelector(selector);

/** Wire the panel; onBin(bin) is called with the bin after each change. */
export function setupAccessPanel({ apiBase, onBin, bin: initialBin }) {
  const panel = $("#access-panel");
  const button = $("#access-button");
  if (!panel || !button) return;
  const tokenList = $("#token-list");
  let loaded = false;

  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden && !loaded) {
      loaded = true;
      loadTokens();
    }
  });

  async function change(fields, what) {
    try {
      const bin = await api(apiBase, { method: "PATCH", body: fields });
      onBin(bin);
      toast(what);
      return bin;
    } catch (err) {
      toast(`Could not save: ${err.message}`, "error");
      return null;
    }
  }

  const privateSwitch = $("#private-switch");
  privateSwitch.addEventListener("change", async () => {
    const wanted = privateSwitch.checked;
    const bin = await change({ private: wanted }, wanted ? "The bin is private now." : "The bin is public now.");
    if (!bin) privateSwitch.checked = !wanted;
  });

  const keepSwitch = $("#keep-switch");
  keepSwitch.addEventListener("change", async () => {
    const wanted = keepSwitch.checked;
    const bin = await change({ keep: wanted }, wanted ? "The bin is kept: it never expires." : "The bin expires again when it is quiet.");
    if (!bin) keepSwitch.checked = !wanted;
  });

  const maskSwitch = $("#mask-switch");
  maskSwitch.addEventListener("change", async () => {
    const wanted = maskSwitch.checked;
    const bin = await change({ mask_headers: wanted }, wanted ? "Sensitive headers are masked." : "Headers are shown as sent.");
    if (!bin) maskSwitch.checked = !wanted;
  });

  $("#mask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#mask-extra");
    const bin = await change({ mask_extra: input.value }, "Saved the headers to mask.");
    if (bin) input.value = bin.mask_extra;
  });

  $("#delivery-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#delivery-header");
    const bin = await change({ delivery_header: input.value }, "Saved the delivery header.");
    if (bin) input.value = bin.delivery_header;
  });

  $("#cors-switch").addEventListener("change", async (event) => {
    const wanted = event.target.checked;
    const bin = await change({ cors: wanted }, wanted ? "CORS is on." : "CORS is off.");
    if (!bin) event.target.checked = !wanted;
  });

  const responseError = $("#response-error");
  function showResponse(response) {
    $("#response-status").value = response ? response.status : 200;
    $("#response-delay").value = response ? response.delay_ms : 0;
    $("#response-headers").value = response ? response.headers.map(([n, v]) => `${n}: ${v}`).join("\n") : "";
    $("#response-body").value = response ? response.body : "";
    $("#response-state").textContent = response ? "" : 'Now: the default, 200 {"ok": true, "id": ...}';
  }
  showResponse(initialBin.response);

  async function saveResponse(response) {
    responseError.hidden = true;
    try {
      const bin = await api(apiBase, { method: "PATCH", body: { response } });
      onBin(bin);
      showResponse(bin.response);
      toast(response ? "Saved: the bin answers with it now." : "The bin gives the default answer again.");
    } catch (err) {
      responseError.textContent = err.message;
      responseError.hidden = false;
    }
  }

  $("#response-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let headers;
    try {
      headers = headerLines($("#response-headers").value);
    } catch (err) {
      responseError.textContent = err.message;
      responseError.hidden = false;
      return;
    }
    saveResponse({
      status: Number($("#response-status").value),
      delay_ms: Number($("#response-delay").value),
      headers,
      body: $("#response-body").value,
    });
  });
  $("#response-default").addEventListener("click", () => saveResponse(null));
  setupAnswers({ apiBase, onBin, bin: initialBin });

  function showSecret(label, value) {
    $("#new-secret-label").textContent = label;
    $("#new-secret-value").value = value;
    $("#new-secret").hidden = false;
    $("#new-secret-value").select();
  }

  async function create(kind) {
    const label = kind === "read" ? "share link" : "API token";
    try {
      const token = await api(`${apiBase}/tokens`, { method: "POST", body: { kind } });
      if (kind === "read") showSecret("Share link: anyone who opens it can read this bin", token.share_url);
      else showSecret("API token: send it as Authorization: Bearer <token>", token.token);
      await loadTokens();
    } catch (err) {
      toast(`Could not create a ${label}: ${err.message}`, "error");
    }
  }
  $("#new-share").addEventListener("click", () => create("read"));
  $("#new-token").addEventListener("click", () => create("owner"));

  async function revoke(token, row) {
    try {
      await api(`${apiBase}/tokens/${token.id}`, { method: "DELETE" });
      row.remove();
      toast(token.kind === "read" ? "Share link revoked." : "Token revoked.");
    } catch (err) {
      toast(`Could not revoke: ${err.message}`, "error");
    }
  }

  function tokenRow(token) {
    const kind = token.kind === "read" ? "Share link (read-only)" : "Owner token";
    const revokeButton = el("button", { type: "button", class: "btn btn-small btn-danger-quiet" }, "Revoke");
    const row = el(
      "li",
      { class: "token-row", dataset: { id: token.id } },
      el("span", { class: "token-kind" }, kind),
      el("span", { class: "muted" }, token.label || ""),
      el("time", { class: "muted", datetime: token.created_at, title: formatLocalTime(token.created_at) }, `created ${relativeTime(token.created_at)}`),
      revokeButton,
    );
    revokeButton.addEventListener("click", () => revoke(token, row));
    return row;
  }

  async function loadTokens() {
    try {
      const { tokens } = await api(`${apiBase}/tokens`);
      tokenList.replaceChildren(...tokens.map(tokenRow));
      if (!tokens.length) tokenList.append(el("li", { class: "muted" }, "No share links or tokens."));
    } catch (err) {
      toast(`Could not load the tokens: ${err.message}`, "error");
    }
  }
}
