// The home page: create a bin, and list the bins this browser remembers.

import {
  ApiError,
  api,
  el,
  forgetBin,
  formatLocalTime,
  inspectPath,
  loadBins,
  plural,
  relativeTime,
  rememberBin,
} from "./common.js";

const form = document.getElementById("create-form");
const nameInput = document.getElementById("bin-name-input");
const createButton = document.getElementById("create-bin");
const errorBox = document.getElementById("create-error");
const binsSection = document.getElementById("your-bins");
const binList = document.getElementById("bin-list");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  const urlName = document.getElementById("url-name-input").value.trim();
  const isPrivate = document.getElementById("private-input").checked;
  createButton.disabled = true;
  createButton.textContent = "Creating…";
  errorBox.hidden = true;
  const body = {};
  if (name) body.name = name;
  if (urlName) body.url_name = urlName;
  if (isPrivate) body.private = true;
  try {
    const bin = await api("/api/bins", { method: "POST", body });
    rememberBin(bin);
    location.assign(bin.inspect_url || inspectPath(bin.id));
  } catch (err) {
    errorBox.textContent = `Could not create a bin: ${err.message}`;
    errorBox.hidden = false;
    createButton.disabled = false;
    createButton.textContent = "Create a bin";
  }
});

function binRow(entry) {
  const title = el("span", { class: "bin-row-name" }, entry.name || "Untitled bin");
  const count = el("span", { class: "bin-row-count muted" }, "…");
  const created = el(
    "time",
    { class: "bin-row-time muted", datetime: entry.created_at || "", title: formatLocalTime(entry.created_at) },
    entry.created_at ? `created ${relativeTime(entry.created_at)}` : "",
  );
  const forget = el(
    "button",
    {
      type: "button",
      class: "btn-icon",
      title: "Remove from this list (the bin itself is kept)",
      "aria-label": `Remove ${entry.name || entry.id} from this list`,
    },
    "×",
  );
  const link = el(
    "a",
    { class: "bin-row-link", href: inspectPath(entry.id) },
    el("span", { class: "bin-row-title" }, title, el("code", { class: "bin-row-id" }, entry.id)),
    el("span", { class: "bin-row-meta" }, count, created),
  );
  const li = el("li", { class: "bin-row", dataset: { id: entry.id } }, link, forget);
  forget.addEventListener("click", () => {
    forgetBin(entry.id);
    li.remove();
    if (!binList.children.length) binsSection.hidden = true;
  });
  return { li, title, count, created };
}

async function refreshRow(entry, row) {
  try {
    const bin = await api(`/api/bins/${encodeURIComponent(entry.id)}`);
    row.title.textContent = bin.name || "Untitled bin";
    row.count.textContent = plural(bin.request_count || 0, "request");
    if (bin.created_at) {
      row.created.setAttribute("datetime", bin.created_at);
      row.created.title = formatLocalTime(bin.created_at);
      row.created.textContent = `created ${relativeTime(bin.created_at)}`;
    }
    rememberBin(bin);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      forgetBin(entry.id);
      row.li.remove();
      if (!binList.children.length) binsSection.hidden = true;
      return;
    }
    row.count.textContent = "unavailable";
    row.li.classList.add("is-unavailable");
  }
}

function showBins() {
  const bins = loadBins().sort((a, b) => String(b.created_at || "").localeCompare(String(a.created_at || "")));
  binList.replaceChildren();
  binsSection.hidden = bins.length === 0;
  for (const entry of bins) {
    const row = binRow(entry);
    binList.appendChild(row.li);
    refreshRow(entry, row);
  }
}

showBins();
// Coming back with the Back button restores the page from cache: refresh the counts.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) showBins();
});
