// The inspect page: a live list of a bin's requests and the detail of the selected one.
// The websocket is news, the API is truth: everything is keyed by request id, so live
// events, backlog and API pages never show a request twice.

import {
  ApiError,
  api,
  copyWithFeedback,
  el,
  forgetBin,
  formatLocalTime,
  relativeTime,
  rememberBin,
  timeUntil,
  toast,
} from "./common.js";
import { setupAccessPanel } from "./access.js";
import { deliveryId } from "./deliveries.js";
import { renderComparison } from "./compare.js";
import { createTimeline } from "./timeline.js";
import { renderDetail } from "./detail.js";
import { createRequestList } from "./list.js";
import { LiveSocket } from "./live.js";
import { recheckVerdicts, setupSignaturePanel } from "./signature.js";
import { outboundEvent, showOutbound } from "./outbound.js";
import { setupTargets } from "./targets.js";

const PAGE_SIZE = 50;
const FOLLOW_EVERY = 250; // ms between two detail loads while following the newest
const BODY_PREVIEW = 256 * 1024; // bytes of a body the detail shows before "Show the whole body"

const bin = JSON.parse(document.getElementById("bin-data").textContent);
const apiBase = `/api/bins/${encodeURIComponent(bin.id)}`;

const $ = (selector) => document.querySelector(selector);
const listEl = $("#request-list");
const detailEl = $("#detail");
const workspaceEl = $("#workspace");
const emptyEl = $("#empty-state");
const olderButton = $("#load-older");
const countEl = $("#request-count");
const countLabelEl = $("#request-count-label");
const keptEl = $("#kept-stat");
const connEl = $("#conn-state");
const listCountEl = $("#list-count");
const searchInput = $("#search");
const searchError = $("#search-error");

const state = {
  items: new Map(), // id -> {req, li, seq}
  seq: 0, // arrival counter, to tell what came in while a page was loading
  maxSeen: 0, // highest request id ever seen; the websocket's ?after=
  nextBefore: null,
  loaded: false,
  selectedId: null,
  selectToken: 0,
  received: Number(bin.request_count) || 0,
  kept: Number(bin.kept_count) || 0, // stored now; the server keeps the newest max_requests
  dropped: Number(bin.dropped_count) || 0,
  refused: Number(bin.refused_count) || 0, // by the rate limits; known from the bin, not live
  gone: false,
  query: new URLSearchParams(location.search).get("q") || "", // the search the list shows
  linked: Number(new URLSearchParams(location.search).get("r")) || null, // a permalink's request
  pinned: false, // the user picked a request: stop following the newest
  unread: 0, // arrived while the tab was hidden, for its title
  compareFrom: null, // "Compare…" was pressed on this request: the next pick is compared
};
state.pinned = state.linked !== null;

const {
  addRequests,
  attemptsOf,
  clearAll,
  dropMissing,
  markSelected,
  newestId,
  noteArrivals,
  refreshCounts,
  removeRequest,
} = createRequestList({
    state,
    bin,
    elements: {
      listEl,
      countEl,
      countLabelEl,
      keptEl,
      listCountEl,
      olderButton,
      emptyEl,
      workspaceEl,
      noMatchEl: $("#no-match"),
    },
    select,
    showPlaceholder,
  });

const timeline = createTimeline({
  canvas: $("#timeline"),
  label: $("#timeline-label"),
  apiBase,
  searchParam: () => searchParam(),
  onRange: (start, end) => {
    const others = state.query.split(/\s+/).filter((term) => term && !term.startsWith("time:"));
    const query = [...others, `time:${start}..${end}`].join(" ");
    searchInput.value = query;
    search(query);
  },
});

// ---------------------------------------------------------------- times

function updateTimes() {
  const now = Date.now();
  for (const time of document.querySelectorAll("time[data-relative], .item-time")) {
    time.textContent = relativeTime(time.getAttribute("datetime"), now);
  }
  updateExpiry();
}

// ---------------------------------------------------------------- pages from the API

/**
 * Load the newest page. With replace, the page becomes the truth: what the list held
 * before is dropped, except requests that arrived live while the page was loading.
 */
async function loadFirstPage({ replace = false } = {}) {
  const seqAtStart = state.seq;
  // After a gap or a reconnect the counters may be stale too.
  timeline.load();
  const [data, fresh] = await Promise.all([
    api(`${apiBase}/requests?limit=${PAGE_SIZE}${searchParam()}`),
    replace && state.loaded ? api(apiBase) : null,
  ]);
  if (fresh) applyBin(fresh);
  if (replace) {
    dropMissing(new Set(data.requests.map((r) => r.id)), seqAtStart);
    state.nextBefore = data.next_before;
  } else if (!state.loaded) {
    state.nextBefore = data.next_before;
  }
  state.loaded = true;
  addRequests(data.requests);
  // Requests that came in between rendering the page and this answer are in the page
  // but not in the count we were rendered with.
  if (!data.next_before) state.received = Math.max(state.received, state.items.size);
  refreshCounts();
  if (state.selectedId !== null && !state.items.has(state.selectedId)) {
    // Deleted while we were away: the detail would show a ghost.
    state.selectedId = null;
    select(newestId());
  }
  if (state.selectedId === null && state.linked === null) {
    if (state.items.size) select(newestId(), { scroll: false });
    else showPlaceholder();
  }
}

async function loadOlder() {
  if (!state.nextBefore) return;
  olderButton.disabled = true;
  olderButton.textContent = "Loading…";
  try {
    const data = await api(
      `${apiBase}/requests?limit=${PAGE_SIZE}&before=${encodeURIComponent(state.nextBefore)}${searchParam()}`,
    );
    state.nextBefore = data.next_before;
    addRequests(data.requests);
    refreshCounts();
  } catch (err) {
    handleApiError(err, "Could not load older requests");
  } finally {
    olderButton.disabled = false;
    olderButton.textContent = "Load older";
  }
}

// ---------------------------------------------------------------- search

function searchParam() {
  return state.query ? `&q=${encodeURIComponent(state.query)}` : "";
}

/** Show what matches `query` (the server searches the whole bin); "" shows all. */
async function search(query) {
  state.query = query;
  const url = new URL(location.href);
  if (query) url.searchParams.set("q", query);
  else url.searchParams.delete("q");
  history.replaceState(null, "", url);
  state.items.clear();
  listEl.replaceChildren();
  state.nextBefore = null;
  state.selectedId = null;
  searchError.hidden = true;
  try {
    await loadFirstPage({ replace: true });
  } catch (err) {
    if (err instanceof ApiError && err.code === "invalid_query") {
      searchError.textContent = err.message;
      searchError.hidden = false;
      refreshCounts();
      return;
    }
    handleApiError(err, "Could not search");
  }
}

/** Requests that arrived live, into the list and the timeline (once each). */
function addLive(requests) {
  const fresh = requests.filter((r) => !state.items.has(r.id));
  addRequests(requests, { live: true });
  timeline.add(fresh);
  notify(fresh);
}

// ---------------------------------------------------------------- notifications

const NOTIFY_KEY = "inspector.notify";
const notifyButton = $("#notify");

function notifying() {
  return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "1";
}

function showNotifyState() {
  notifyButton.setAttribute("aria-pressed", String(notifying()));
  notifyButton.textContent = notifying() ? "Notifying" : "Notify me";
}

async function toggleNotify() {
  if (!("Notification" in window)) return toast("This browser cannot show notifications.", "error");
  if (notifying()) {
    localStorage.removeItem(NOTIFY_KEY);
  } else if ((await Notification.requestPermission()) === "granted") {
    localStorage.setItem(NOTIFY_KEY, "1");
  } else {
    toast("Notifications are blocked for this site in your browser's settings.", "error");
  }
  showNotifyState();
}

/** A notification for what arrived while the tab is hidden (one, however many came). */
function notify(requests) {
  if (!requests.length || !document.hidden || !notifying()) return;
  const newest = requests.at(-1);
  const more = requests.length > 1 ? ` and ${requests.length - 1} more` : "";
  const note = new Notification(`${newest.method} ${newest.path || "/"}${more}`, {
    body: `${bin.name || "Bin " + bin.id} · Inspector`,
    tag: `inspector-${bin.id}`,
  });
  note.addEventListener("click", () => {
    window.focus();
    note.close();
  });
}

/** New requests while a search is on: the server says which of them match. */
async function addMatching(requests) {
  noteArrivals(requests);
  const ids = requests.map((r) => r.id).filter(Number.isInteger);
  if (!ids.length) return;
  const query = state.query;
  try {
    const data = await api(`${apiBase}/requests?after=${Math.min(...ids) - 1}&limit=500${searchParam()}`);
    if (query !== state.query) return;
    const arrived = new Set(ids);
    addLive(data.requests.filter((r) => arrived.has(r.id)));
  } catch (err) {
    handleApiError(err, "Could not search the new requests");
  }
}

function handleApiError(err, what) {
  if (binIsGone(err)) {
    binGone();
    return;
  }
  if (accessLost(err)) {
    noAccess();
    return;
  }
  toast(`${what}: ${err.message}`, "error");
}

/** The API says this browser may not read the bin (any more). */
function accessLost(err) {
  return err instanceof ApiError && err.status === 401;
}

/** The API says the bin was deleted, or expired. */
function binIsGone(err) {
  return err instanceof ApiError && (err.code === "bin_not_found" || err.code === "bin_expired");
}

// ---------------------------------------------------------------- selection and detail

/** The address names the picked request (?r=), so it can be shared and reloaded. */
function setPermalink(id) {
  const url = new URL(location.href);
  if (id) url.searchParams.set("r", id);
  else url.searchParams.delete("r");
  history.replaceState(null, "", url);
  $("#follow-newest").hidden = !state.pinned;
}

// ---------------------------------------------------------------- compare

/** "Compare…": the next request picked is compared with this one. */
function startComparing(id) {
  state.compareFrom = id;
  document.body.classList.add("is-comparing");
  toast(`Pick the request to compare #${id} with (Esc cancels).`);
}

function stopComparing() {
  state.compareFrom = null;
  document.body.classList.remove("is-comparing");
}

async function compare(a, b) {
  stopComparing();
  try {
    const diff = await api(`${apiBase}/requests/${a}/diff/${b}`);
    detailEl.removeAttribute("data-id");
    // Closing shows the selected request again (select() renders what is not shown).
    detailEl.replaceChildren(renderComparison(diff, () => select(state.selectedId ?? a)));
  } catch (err) {
    handleApiError(err, "Could not compare");
  }
}

/** The user picked a request: the page stops following the newest. */
function pick(id, options) {
  if (state.compareFrom !== null && state.compareFrom !== id) return compare(state.compareFrom, id);
  state.pinned = true;
  setPermalink(id);
  return select(id, options);
}

function followNewest() {
  state.pinned = false;
  setPermalink(null);
  if (state.items.size) select(newestId(), { scroll: true });
}

/** A permalink to a request beyond the first page: fetch it into the list. */
async function showLinked() {
  const id = state.linked;
  state.linked = null;
  if (!state.items.has(id)) {
    const data = await api(`${apiBase}/requests?after=${id - 1}&limit=1`);
    if (data.requests[0]?.id !== id) {
      toast(`Request #${id} is not in this bin any more.`);
      followNewest();
      return;
    }
    addRequests(data.requests);
  }
  setPermalink(id);
  select(id);
}

function showDetail(full) {
  const onDelete = bin.access === "read" ? null : deleteRequest;
  detailEl.replaceChildren(
    renderDetail(full, {
      apiBase,
      onDelete,
      onWholeBody: () => showWholeBody(full.id),
      attempts: attemptsOf(full.id),
      onPick: (id) => pick(id, { scroll: true }),
      onCompare: startComparing,
    }),
  );
  showOutbound(detailEl.querySelector(".detail-body"), full, {
    apiBase,
    canEdit: bin.access !== "read",
    isOwner: bin.access === "owner",
  });
}

/** The rest of a body the detail showed a preview of. */
async function showWholeBody(id) {
  try {
    const full = await api(`${apiBase}/requests/${id}`);
    if (state.selectedId === id) showDetail(full);
  } catch (err) {
    handleApiError(err, "Could not load the whole body");
  }
}

let followTimer = null;

async function select(id, { focus = false, scroll = true, reveal = false, follow = false } = {}) {
  const item = state.items.get(id);
  if (!item) return;
  if (follow) {
    // Following a flood: mark the newest at once, load its detail at most 4 times a
    // second (each load is a fetch and a render), always the newest by then.
    markSelected(item.li);
    state.selectedId = id;
    if (followTimer === null) {
      followTimer = setTimeout(() => {
        followTimer = null;
        if (!state.pinned && state.selectedId !== null) select(state.selectedId, { scroll: false });
      }, FOLLOW_EVERY);
    }
    return;
  }
  const changed = state.selectedId !== id;
  state.selectedId = id;
  markSelected(item.li);
  if (focus) item.li.focus({ preventScroll: true });
  if (scroll) item.li.scrollIntoView({ block: "nearest" });
  if (!changed && detailEl.dataset.id === String(id)) return;

  const token = ++state.selectToken;
  detailEl.removeAttribute("data-id");
  detailEl.setAttribute("aria-busy", "true");
  detailEl.classList.add("is-loading");
  try {
    const full = await api(`${apiBase}/requests/${id}?preview=${BODY_PREVIEW}`);
    if (token !== state.selectToken) return;
    showDetail(full);
    detailEl.dataset.id = String(id);
    detailEl.scrollTop = 0;
  } catch (err) {
    if (token !== state.selectToken) return;
    if (err instanceof ApiError && err.status === 404 && err.code !== "bin_not_found") {
      toast(`Request #${id} is gone: deleted, or dropped to keep the newest ${bin.max_requests}.`);
      removeRequest(id);
      return;
    }
    if (binIsGone(err) || accessLost(err)) {
      handleApiError(err, "");
      return;
    }
    const retry = el("button", { type: "button", class: "btn" }, "Try again");
    retry.addEventListener("click", () => {
      state.selectedId = null;
      select(id);
    });
    detailEl.replaceChildren(
      el("div", { class: "placeholder" }, el("p", null, `Could not load request #${id}: ${err.message}`), retry),
    );
  } finally {
    if (token === state.selectToken) {
      detailEl.removeAttribute("aria-busy");
      detailEl.classList.remove("is-loading");
    }
  }
  // Stacked layout: a click on the list should show the detail below it.
  if (reveal && window.matchMedia("(max-width: 899px)").matches) {
    detailEl.scrollIntoView({ behavior: "smooth", block: "start" });
  }
}

function showPlaceholder() {
  state.selectToken += 1;
  detailEl.removeAttribute("data-id");
  detailEl.replaceChildren(
    el(
      "div",
      { class: "placeholder" },
      el("p", { class: "placeholder-title" }, "No request selected"),
      el("p", { class: "muted" }, "Pick a request on the left to see its headers, query and body."),
    ),
  );
}

async function deleteRequest(id, button) {
  button.disabled = true;
  try {
    await api(`${apiBase}/requests/${id}`, { method: "DELETE" });
    removeRequest(id);
    toast(`Request #${id} deleted.`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code !== "bin_not_found") removeRequest(id);
    else handleApiError(err, "Could not delete the request");
  } finally {
    button.disabled = false;
  }
}

async function clearBin() {
  if (!window.confirm("Delete every request in this bin? This cannot be undone.")) return;
  const button = $("#clear-bin");
  button.disabled = true;
  try {
    await api(`${apiBase}/requests`, { method: "DELETE" });
    clearAll();
    toast("Bin cleared.");
  } catch (err) {
    handleApiError(err, "Could not clear the bin");
  } finally {
    button.disabled = state.gone;
  }
}

// ---------------------------------------------------------------- bin header

function applyBin(update) {
  if (!update || update.id !== bin.id) return;
  const deliveryHeader = bin.delivery_header;
  Object.assign(bin, update);
  if (bin.delivery_header !== deliveryHeader) {
    for (const item of state.items.values()) item.delivery = deliveryId(item.req, bin.delivery_header);
  }
  $("#bin-name").textContent = bin.name || "Untitled bin";
  const badge = $("#privacy-badge");
  badge.textContent = bin.private ? "Private" : "Public";
  badge.classList.toggle("tag-private", bin.private);
  badge.title = bin.private ? "Only its owner and share links can see it" : "Anyone with this page's address can see it";
  if (typeof bin.request_count === "number") state.received = bin.request_count;
  if (typeof bin.kept_count === "number") state.kept = bin.kept_count;
  if (typeof bin.dropped_count === "number") state.dropped = bin.dropped_count;
  if (typeof bin.refused_count === "number") state.refused = bin.refused_count;
  rememberBin(bin);
  refreshCounts();
  updateExpiry();
}

function updateExpiry() {
  const expiry = $("#bin-expiry");
  if (!expiry || !bin.expires_at) return;
  if (bin.keep) {
    expiry.textContent = "Kept: never expires";
    expiry.title = "";
    return;
  }
  expiry.textContent = `Expires ${timeUntil(bin.expires_at)}`;
  expiry.title = formatLocalTime(bin.expires_at);
}

function binGone() {
  if (state.gone) return;
  forgetBin(bin.id);
  shutDown("Not found", "#bin-gone");
}

/** The owner made the bin private, or revoked the share link this browser used. */
function noAccess() {
  if (state.gone) return;
  forgetBin(bin.id);
  shutDown("No access", "#no-access");
  detailEl.replaceChildren();
  listEl.replaceChildren();
}

function shutDown(label, banner) {
  state.gone = true;
  live.stop();
  setConn("gone", label);
  $(banner).hidden = false;
  $("#capture").hidden = true;
  $("#bin-expiry").hidden = true;
  workspaceEl.hidden = true;
  emptyEl.hidden = true;
  for (const button of document.querySelectorAll("#clear-bin, #access-button")) button.disabled = true;
  const panel = $("#access-panel");
  if (panel) panel.hidden = true;
}

// ---------------------------------------------------------------- websocket

function setConn(name, label) {
  connEl.dataset.state = name;
  connEl.querySelector(".conn-label").textContent = label;
  document.body.dataset.ws = name === "live" ? "open" : "closed";
}

let connectedWithBacklog = false;

const live = new LiveSocket({
  url() {
    connectedWithBacklog = state.maxSeen > 0;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const after = state.maxSeen ? `?after=${state.maxSeen}` : "";
    return `${scheme}${location.host}/ws/bins/${encodeURIComponent(bin.id)}/${after}`;
  },
  onOpen() {
    // Without ?after the server sends no backlog: fetch the page instead, so a request
    // that came in between the first load and this connection is not missed.
    if (!connectedWithBacklog || !state.loaded) {
      loadFirstPage({ replace: !state.loaded }).catch((err) => handleApiError(err, "Could not load requests"));
    }
  },
  onEvent,
  onState: setConn,
  onGone: binGone,
  onDenied: noAccess,
});

function onEvent(message) {
  switch (message.type) {
    case "requests.created":
      if (state.query) addMatching(message.requests || []);
      else addLive(message.requests || []);
      break;
    case "request.deleted":
      state.kept = Math.max(0, state.kept - 1);
      removeRequest(message.id);
      refreshCounts();
      break;
    case "bin.cleared":
      clearAll();
      timeline.load();
      break;
    case "requests.refused":
      state.received += message.count;
      state.refused += message.count;
      refreshCounts();
      break;
    case "bin.updated":
      applyBin(message.bin);
      break;
    case "bin.deleted":
      binGone();
      break;
    case "signature.changed":
      recheckSignatures();
      break;
    case "access.changed":
      // Still here, so still allowed; the bin's privacy may have changed.
      api(apiBase).then(applyBin, (err) => handleApiError(err, "Could not reload the bin"));
      break;
    case "delivery.updated":
    case "replay.created":
      outboundEvent(message);
      break;
    case "gap":
      loadFirstPage({ replace: true }).catch((err) => handleApiError(err, "Could not reload requests"));
      break;
    default:
      break; // newer servers may send more; ignore what we do not know
  }
}

// ---------------------------------------------------------------- keyboard and wiring

function moveSelection(step) {
  const items = [...listEl.children];
  if (!items.length) return;
  const current = items.findIndex((li) => Number(li.dataset.id) === state.selectedId);
  const index = current < 0 ? 0 : Math.max(0, Math.min(items.length - 1, current + step));
  pick(Number(items[index].dataset.id), { focus: true });
}

listEl.addEventListener("click", (event) => {
  const li = event.target.closest("li.request-item");
  if (li) pick(Number(li.dataset.id), { focus: true, reveal: true });
});

listEl.addEventListener("keydown", (event) => {
  const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -Infinity, End: Infinity };
  if (event.key in steps) {
    event.preventDefault();
    const items = [...listEl.children];
    if (event.key === "Home") return pick(Number(items[0]?.dataset.id), { focus: true });
    if (event.key === "End") return pick(Number(items.at(-1)?.dataset.id), { focus: true });
    moveSelection(steps[event.key]);
  }
});

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key === "Escape" && state.compareFrom !== null) stopComparing();
  else if (event.key === "j") moveSelection(1);
  else if (event.key === "k") moveSelection(-1);
  else if (event.key === "/") {
    event.preventDefault();
    searchInput.focus();
    searchInput.select();
  }
});

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", () => {
    const source = document.getElementById(button.dataset.copy);
    const isField = source.tagName === "INPUT" || source.tagName === "TEXTAREA";
    copyWithFeedback(button, (isField ? source.value : source.textContent).trim(), isField ? source : null);
  });
}
$("#capture-url").addEventListener("focus", (event) => event.target.select());
olderButton.addEventListener("click", loadOlder);
searchInput.value = state.query;
$("#search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  search(searchInput.value.trim());
});
searchInput.addEventListener("search", () => {
  if (!searchInput.value && state.query) search(""); // the field's own clear button
});
searchInput.addEventListener("focus", () => ($("#search-help").hidden = false));
searchInput.addEventListener("blur", () => ($("#search-help").hidden = true));
searchInput.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    searchInput.value = "";
    if (state.query) search("");
    searchInput.blur();
  }
});
$("#clear-bin")?.addEventListener("click", clearBin);
$("#follow-newest").addEventListener("click", followNewest);
notifyButton.addEventListener("click", toggleNotify);
showNotifyState();
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.unread) {
    state.unread = 0;
    refreshCounts();
  }
});
$("#export-bin").addEventListener("change", (event) => {
  const format = event.target.value;
  event.target.value = "";
  if (format) location.assign(`${apiBase}/export?format=${format}`);
});
$("#import-file")?.addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  try {
    const { imported } = await api(`${apiBase}/import`, { method: "POST", file });
    toast(`Imported ${imported.toLocaleString()} ${imported === 1 ? "request" : "requests"} from ${file.name}.`);
  } catch (err) {
    handleApiError(err, `Could not import ${file.name}`);
  }
});
setupAccessPanel({ apiBase, onBin: applyBin, bin });
setupTargets({ apiBase, onBin: applyBin });
setupSignaturePanel({ apiBase, bin, onBin: applyBin, onSaved: recheckSignatures });

/** The bin's signature setting changed: read the verdicts shown again. */
async function recheckSignatures() {
  try {
    await recheckVerdicts(apiBase, state.items);
  } catch (err) {
    handleApiError(err, "Could not check the signatures again");
    return;
  }
  if (state.selectedId === null) return;
  detailEl.removeAttribute("data-id");
  select(state.selectedId, { scroll: false });
}

async function start() {
  document.body.dataset.ws = "closed";
  rememberBin(bin);
  updateExpiry();
  refreshCounts();
  try {
    await loadFirstPage({ replace: true });
  } catch (err) {
    if (binIsGone(err) || accessLost(err)) {
      handleApiError(err, "");
      return;
    }
    if (err instanceof ApiError && err.code === "invalid_query") {
      searchError.textContent = err.message;
      searchError.hidden = false;
    } else {
      toast(`Could not load requests: ${err.message}`, "error");
    }
  }
  if (state.linked !== null) await showLinked().catch((err) => handleApiError(err, "Could not open the request"));
  live.connect();
  setInterval(updateTimes, 15000);
}

start();
