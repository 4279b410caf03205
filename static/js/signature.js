// Webhook signatures (issue 8): the verdict on each request (a badge in the list, a
// section in the detail) and the owner's settings block with the signed test sender.
// Verdicts are judged by the server when read, so a changed secret means reading them
// again (recheckVerdicts). Built with el()/textContent only.

import { api, el, toast } from "./common.js";

const $ = (selector) => document.querySelector(selector);

const STATUS = {
  valid: ["valid", "Signature valid"],
  invalid: ["invalid", "Signature invalid"],
  unsigned: ["unsigned", "Not signed"],
  unchecked: ["unchecked", "Signature not checked"],
};
const CAUSES = {
  wrong_secret: "Wrong secret",
  body_changed: "Body changed",
  timestamp_outside_tolerance: "Timestamp outside the tolerance",
  header_malformed: "Header missing or malformed",
  other_url: "Signed for another URL",
};

/** The list item's badge for a request's verdict, or null when the bin checks none. */
export function signatureBadge(signature) {
  if (!signature) return null;
  const [word] = STATUS[signature.status] || [signature.status];
  const cause = CAUSES[signature.cause];
  return el(
    "span",
    {
      class: `item-signature sig-${signature.status}`,
      title: [cause, signature.message].filter(Boolean).join(": "),
    },
    word,
  );
}

/** The detail's "Signature" section: verdict, cause in plain words, and the
 * signatures expected and received side by side. */
export function signatureSection(req) {
  const signature = req.signature;
  if (!signature) return null;
  const [word, heading] = STATUS[signature.status] || [signature.status, signature.status];
  const cause = CAUSES[signature.cause];
  const expected = signature.expected_hidden
    ? el("span", { class: "muted" }, "shown to the bin's owner only")
    : signature.expected || el("span", { class: "muted" }, "none");
  const pair = (label, value, id) =>
    el("div", { class: "sig-side" }, el("div", { class: "sig-label" }, label), el("code", { class: "sig-value", id }, value));
  const compared = signature.expected || signature.received || signature.expected_hidden;
  return el(
    "section",
    { class: "detail-section", id: "signature-verdict", dataset: { status: signature.status } },
    el(
      "h3",
      null,
      "Signature",
      el("span", { class: `tag sig-tag sig-${signature.status}`, title: heading }, word),
      signature.label ? el("span", { class: "muted small" }, ` ${signature.label}`) : null,
    ),
    cause ? el("p", { class: "sig-cause", id: "signature-cause" }, cause) : null,
    el("p", { class: "sig-message", id: "signature-message" }, signature.message),
    compared
      ? el(
          "div",
          { class: "sig-compare" },
          pair("Expected", expected, "signature-expected"),
          pair("Received", signature.received || el("span", { class: "muted" }, "none"), "signature-received"),
        )
      : null,
  );
}

/** Read the verdicts of the requests on the page again (the secret changed): each
 * item's badge and its req.signature. `items`: id -> {req, li}. */
export async function recheckVerdicts(apiBase, items) {
  const ids = [...items.keys()];
  if (!ids.length) return;
  const newest = Math.max(...ids);
  let after = Math.min(...ids) - 1;
  while (after < newest) {
    const page = await api(`${apiBase}/requests?after=${after}&limit=500`);
    for (const req of page.requests) {
      const item = items.get(req.id);
      if (!item) continue;
      item.req.signature = req.signature;
      const meta = item.li.querySelector(".item-meta");
      meta?.querySelector(".item-signature")?.remove();
      const badge = signatureBadge(req.signature);
      if (badge && meta) meta.prepend(badge);
    }
    if (page.requests.length < 500) break;
    after = page.requests[page.requests.length - 1].id;
  }
}

/** Wire the owner's "Signature" block; onSaved() runs after each change of the setting. */
export function setupSignaturePanel({ apiBase, bin, onBin, onSaved }) {
  const form = $("#signature-form");
  if (!form) return;
  const catalogue = JSON.parse($("#signature-providers").textContent);
  const providers = new Map(catalogue.map((provider) => [provider.id, provider]));
  const select = $("#signature-provider");
  const secret = $("#signature-secret");
  const hint = $("#signature-hint");
  const error = $("#signature-error");
  const state = $("#signature-state");
  const testButton = $("#signature-test");
  const sendForm = $("#signature-send-form");
  const fields = {
    tolerance: $("#signature-tolerance"),
    header: $("#signature-header"),
    prefix: $("#signature-prefix"),
    algorithm: $("#signature-algorithm"),
    encoding: $("#signature-encoding"),
    signed: $("#signature-signed"),
    timestamp_header: $("#signature-timestamp-header"),
    separator: $("#signature-separator"),
  };
  let saved = bin.signature || null; // the owner's view: provider, options, secret_hint

  /** Show the fields the chosen provider takes, filled with `options`. */
  function showFields(options) {
    const provider = providers.get(select.value);
    const defaults = provider ? provider.options : {};
    const values = { ...defaults, ...(options || {}) };
    for (const [name, input] of Object.entries(fields)) {
      if (name in values) input.value = String(values[name]);
    }
    for (const node of form.querySelectorAll("[data-signature-option]")) {
      node.hidden = !(node.dataset.signatureOption in defaults);
    }
    const timestamped = fields.signed.value === "timestamp_body";
    for (const node of form.querySelectorAll("[data-signature-signed]")) node.hidden = !timestamped;
    // A generic HMAC over the body alone has no timestamp to hold to a tolerance.
    if (select.value === "hmac" && !timestamped) fields.tolerance.closest("label").hidden = true;
    secret.closest("label").hidden = !provider;
    secret.placeholder = saved && saved.provider && saved.secret_hint ? "unchanged" : "the secret the sender signs with";
  }

  function showSaved() {
    select.value = saved ? saved.provider : "";
    secret.value = "";
    showFields(saved ? saved.options : null);
    hint.textContent = saved
      ? `Checking ${saved.label} signatures with the secret ${saved.secret_hint}. Leave the secret empty to keep it.`
      : "Off: requests are not checked.";
    testButton.disabled = !saved;
    for (const control of sendForm.elements) control.disabled = !saved;
  }

  function options() {
    const defaults = providers.get(select.value)?.options || {};
    const chosen = {};
    for (const name of Object.keys(defaults)) {
      const input = fields[name];
      chosen[name] = name === "tolerance" ? Number(input.value) : input.value;
    }
    return chosen;
  }

  select.addEventListener("change", () => showFields(select.value === saved?.provider ? saved.options : null));
  fields.signed.addEventListener("change", () => showFields(options()));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    let signature = null;
    if (select.value) {
      signature = { provider: select.value, options: options() };
      if (secret.value) signature.secret = secret.value;
    }
    try {
      const updated = await api(apiBase, { method: "PATCH", body: { signature } });
      saved = updated.signature;
      onBin(updated);
      showSaved();
      state.textContent = saved ? "Saved: every request is checked again." : "Saved: signatures are not checked.";
      toast(saved ? `${saved.label} signatures are checked now.` : "Signatures are not checked any more.");
      onSaved?.();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });

  testButton.addEventListener("click", async () => {
    testButton.disabled = true;
    try {
      const sent = await api(`${apiBase}/signature/test`, { method: "POST", body: {} });
      state.textContent = `Sent a signed test event: #${sent.id}, ${sent.signature.status}.`;
    } catch (err) {
      toast(`Could not send the test event: ${err.message}`, "error");
    } finally {
      testButton.disabled = !saved;
    }
  });

  sendForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = $("#signature-target").value.trim();
    if (!url) return;
    state.textContent = `Sending to ${url}…`;
    try {
      const sent = await api(`${apiBase}/signature/test`, { method: "POST", body: { url } });
      state.textContent = sent.error
        ? `Not delivered to ${url}: ${sent.error}`
        : `${url} answered ${sent.status} in ${sent.duration_ms} ms.`;
    } catch (err) {
      state.textContent = "";
      toast(`Could not send: ${err.message}`, "error");
    }
  });

  showSaved();
}
