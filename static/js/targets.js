// The owner's forward targets, in "Settings & sharing" (issue 7): add, switch off and
// remove targets, and make the bin answer as a proxy of its first one. Built with
// el()/textContent only.

import { api, el, toast } from "./common.js";

const $ = (selector) => document.querySelector(selector);

/** Wire the forwarding block; onBin(bin) is called with the bin after a change. */
export function setupTargets({ apiBase, onBin }) {
  const block = $("#forwarding-block");
  const button = $("#access-button");
  if (!block || !button) return;
  const list = $("#target-list");
  const empty = $("#targets-empty");
  const error = $("#targets-error");
  let loaded = false;

  button.addEventListener("click", () => {
    if (!loaded) {
      loaded = true;
      load();
    }
  });

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  async function load() {
    try {
      render(await api(`${apiBase}/targets`));
    } catch (err) {
      showError(`Could not load the targets: ${err.message}`);
    }
  }

  function render(data) {
    list.replaceChildren(...data.targets.map((target, index) => row(target, index)));
    empty.hidden = data.targets.length > 0;
    $("#proxy-switch").checked = data.proxy;
    const timeout = $("#proxy-timeout");
    timeout.value = data.proxy_timeout_ms;
    timeout.max = data.max_proxy_timeout_ms;
  }

  function row(target, index) {
    const enabled = el("input", { type: "checkbox", checked: target.enabled, "aria-label": `Send to ${target.url}` });
    enabled.addEventListener("change", () => change(target, { enabled: enabled.checked }));
    const remove = el("button", { type: "button", class: "btn btn-small btn-danger-quiet" }, "Remove");
    remove.addEventListener("click", () => removeTarget(target));
    return el(
      "li",
      { class: "token-row target-row", dataset: { id: target.id } },
      el("label", { class: "switch target-switch" }, enabled, " ", el("span", { class: "mono target-url" }, target.url)),
      index === 0 ? el("span", { class: "muted small", title: "The proxy answers with this one" }, "first") : null,
      remove,
    );
  }

  async function change(target, fields) {
    try {
      await api(`${apiBase}/targets/${target.id}`, { method: "PATCH", body: fields });
      toast(fields.enabled ? `Forwarding to ${target.url}.` : `Not forwarding to ${target.url} for now.`);
      await afterChange();
    } catch (err) {
      showError(`Could not change the target: ${err.message}`);
      await load();
    }
  }

  async function removeTarget(target) {
    if (!window.confirm(`Stop forwarding to ${target.url}? Its deliveries and their attempts are deleted.`)) return;
    try {
      await api(`${apiBase}/targets/${target.id}`, { method: "DELETE" });
      toast("Target removed.");
      await afterChange();
    } catch (err) {
      showError(`Could not remove the target: ${err.message}`);
    }
  }

  async function afterChange() {
    showError("");
    await load();
    onBin(await api(apiBase));
  }

  $("#target-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#target-url");
    try {
      await api(`${apiBase}/targets`, { method: "POST", body: { url: input.value.trim() } });
      input.value = "";
      toast("Target added: each request from now on is forwarded to it.");
      await afterChange();
    } catch (err) {
      showError(err.message);
    }
  });

  async function saveProxy(fields, what) {
    try {
      onBin(await api(apiBase, { method: "PATCH", body: fields }));
      showError("");
      toast(what);
      return true;
    } catch (err) {
      showError(`Could not save: ${err.message}`);
      return false;
    }
  }

  const proxySwitch = $("#proxy-switch");
  proxySwitch.addEventListener("change", async () => {
    const wanted = proxySwitch.checked;
    const what = wanted ? "Senders now get the first target's answer." : "The bin answers on its own again.";
    if (!(await saveProxy({ proxy: wanted }, what))) proxySwitch.checked = !wanted;
  });
  $("#proxy-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = Number($("#proxy-timeout").value);
    await saveProxy({ proxy_timeout_ms: value }, `The proxy waits at most ${value.toLocaleString()} ms.`);
  });
}
