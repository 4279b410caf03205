// The inspect page's request list: one item per request id, sorted newest first and
// capped at MAX_ITEMS, with the counts and the empty state that follow from it.

import { el, formatBytes, formatLocalTime, methodBadge, parseTime, plural, relativeTime } from "./common.js";
import { deliveryId } from "./deliveries.js";
import { signatureBadge } from "./signature.js";

export const MAX_ITEMS = 1000; // kept in the list; older ones come back with "Load older"

export function displayPath(req) {
  let path = req.path || "/";
  if (!path.startsWith("/")) path = "/" + path;
  return req.query_string ? `${path}?${req.query_string}` : path;
}

/** What the sender was answered, when the bin chose it (a rule, the failure script, its
 * own response): "→ 503", "→ closed"; Inspector's own answer shows nothing. */
function answerBadge(response) {
  if (!response) return null;
  const status = response.close ? "closed" : String(response.status);
  const failed = response.close || response.status >= 400;
  const why = response.rule
    ? `Rule: ${response.rule}`
    : response.failure || (response.proxy ? "The forward target's answer (proxy)" : "The bin's response");
  return el("span", { class: `item-answer${failed ? " is-failed" : ""}`, title: `Answered ${status}. ${why}` }, `→ ${status}`);
}

export function renderItem(req) {
  const time = el(
    "time",
    { class: "item-time", datetime: req.received_at, title: formatLocalTime(req.received_at) },
    relativeTime(req.received_at),
  );
  return el(
    "li",
    {
      class: "request-item",
      role: "option",
      tabindex: "-1",
      "aria-selected": "false",
      dataset: { id: req.id },
    },
    methodBadge(req.method),
    el(
      "div",
      { class: "item-main" },
      el("span", { class: "item-path", title: displayPath(req) }, displayPath(req)),
      el(
        "span",
        { class: "item-meta" },
        signatureBadge(req.signature),
        answerBadge(req.response),
        time,
        el("span", { class: "item-size" }, formatBytes(req.body_size), req.body_truncated ? " (cut)" : ""),
        req.remote_addr ? el("span", { class: "item-addr" }, req.remote_addr) : null,
        el("span", { class: "item-id" }, `#${req.id}`),
      ),
    ),
  );
}

/**
 * The list over the page's shared state (items, seq, maxSeen, received, nextBefore,
 * loaded, selectedId, gone). The page owns selection: select(id, options) and
 * showPlaceholder() are called when the selected request appears or goes away.
 */
export function createRequestList({ state, bin, elements, select, showPlaceholder }) {
  const { listEl, countEl, countLabelEl, keptEl, listCountEl, olderButton, emptyEl, workspaceEl, noMatchEl } =
    elements;

  /** Put li in the list, which stays sorted by id, newest first. */
  function insertSorted(li, id) {
    const first = listEl.firstElementChild;
    if (!first || Number(first.dataset.id) < id) {
      listEl.prepend(li);
      return;
    }
    const last = listEl.lastElementChild;
    if (Number(last.dataset.id) > id) {
      listEl.append(li);
      return;
    }
    for (const child of listEl.children) {
      if (Number(child.dataset.id) < id) {
        listEl.insertBefore(li, child);
        return;
      }
    }
    listEl.append(li);
  }

  function markSelected(li) {
    for (const other of listEl.querySelectorAll(".request-item.is-selected")) {
      other.classList.remove("is-selected");
      other.setAttribute("aria-selected", "false");
    }
    if (li) {
      li.classList.add("is-selected");
      li.setAttribute("aria-selected", "true");
    }
  }

  /** Add requests from any source; returns how many were new to this page. */
  function addRequests(requests, { live = false } = {}) {
    let added = 0;
    for (const req of requests) {
      if (!req || typeof req.id !== "number") continue;
      const known = state.items.get(req.id);
      if (known) continue;
      const li = renderItem(req);
      if (live) li.classList.add("is-new");
      state.items.set(req.id, { req, li, seq: ++state.seq, delivery: deliveryId(req, bin.delivery_header) });
      insertSorted(li, req.id);
      if (req.id === state.selectedId) markSelected(li);
      if (req.id > state.maxSeen) {
        if (live && state.loaded) countArrival();
        state.maxSeen = req.id;
      }
      added += 1;
    }
    if (added) {
      trimList();
      refreshCounts();
      // Follow the newest request until the user picks one.
      if (!state.pinned) select(newestId(), { scroll: false, follow: true });
    }
    return added;
  }

  /** Count new requests a search hides: the bin got them, the list does not show them. */
  function noteArrivals(requests) {
    for (const req of requests) {
      if (typeof req?.id !== "number" || req.id <= state.maxSeen) continue;
      if (state.loaded) countArrival();
      state.maxSeen = req.id;
    }
    refreshCounts();
  }

  /** A new request reached the bin: the server keeps it, dropping the oldest when full. */
  function countArrival() {
    state.received += 1;
    if (document.hidden) state.unread += 1;
    if (state.kept >= bin.max_requests) state.dropped += 1;
    else state.kept += 1;
  }

  function newestId() {
    const first = listEl.firstElementChild;
    return first ? Number(first.dataset.id) : null;
  }

  /** Keep the list bounded; what is dropped stays reachable through "Load older". */
  function trimList() {
    if (state.items.size <= MAX_ITEMS) return;
    let last = listEl.lastElementChild;
    while (state.items.size > MAX_ITEMS && last) {
      const id = Number(last.dataset.id);
      const previous = last.previousElementSibling;
      if (id !== state.selectedId) {
        state.items.delete(id);
        last.remove();
        state.nextBefore = id;
      }
      last = previous;
    }
  }

  /** Drop what a fresh first page no longer has, except what arrived after seq. */
  function dropMissing(pageIds, seq) {
    for (const [id, item] of state.items) {
      if (!pageIds.has(id) && item.seq <= seq) {
        state.items.delete(id);
        item.li.remove();
      }
    }
  }

  function removeRequest(id) {
    const item = state.items.get(id);
    if (!item) return false;
    const neighbour = item.li.nextElementSibling || item.li.previousElementSibling;
    state.items.delete(id);
    item.li.remove();
    if (state.selectedId === id) {
      state.selectedId = null;
      if (neighbour) select(Number(neighbour.dataset.id), { focus: listEl.contains(document.activeElement) });
      else showPlaceholder();
    }
    refreshCounts();
    return true;
  }

  function clearAll() {
    state.kept = 0;
    state.items.clear();
    listEl.replaceChildren();
    state.nextBefore = null;
    state.selectedId = null;
    showPlaceholder();
    refreshCounts();
  }

  /** The attempts of the delivery a request belongs to, oldest first: [{id, at}]. */
  function attemptsOf(id) {
    const key = state.items.get(id)?.delivery;
    if (!key) return [];
    return [...state.items.values()]
      .filter((item) => item.delivery === key)
      .map((item) => ({ id: item.req.id, at: parseTime(item.req.received_at) }))
      .sort((a, b) => a.id - b.id);
  }

  /** "attempt 2/3" on each request whose delivery was tried more than once. Runs on
   * every change, so it touches only requests that carry a delivery id. */
  function markAttempts() {
    const groups = new Map();
    for (const item of state.items.values()) {
      if (!item.delivery) continue;
      if (!groups.has(item.delivery)) groups.set(item.delivery, []);
      groups.get(item.delivery).push(item.req.id);
    }
    for (const item of state.items.values()) {
      if (!item.delivery && !item.pill) continue;
      const ids = item.delivery ? groups.get(item.delivery).sort((a, b) => a - b) : [];
      const label = ids.length > 1 ? `attempt ${ids.indexOf(item.req.id) + 1}/${ids.length}` : "";
      if (!label) {
        item.pill?.remove();
        item.pill = null;
        continue;
      }
      if (!item.pill) {
        item.pill = el("span", { class: "item-attempt", title: "Retries of one delivery share its id" });
        item.li.querySelector(".item-meta").appendChild(item.pill);
      }
      if (item.pill.textContent !== label) item.pill.textContent = label;
    }
  }

  function refreshCounts() {
    markAttempts();
    countEl.textContent = state.received.toLocaleString();
    countLabelEl.textContent = state.received === 1 ? "request received" : "requests received";
    refreshKept();
    const shown = state.items.size;
    const label = state.query ? plural(shown, "match", "matches") : plural(shown, "request");
    listCountEl.textContent = shown ? label + (state.nextBefore ? "+" : "") : "";
    olderButton.hidden = !state.nextBefore;
    noMatchEl.hidden = !(state.query && state.loaded && shown === 0 && !state.nextBefore);
    // Until the first page is in, the server-rendered choice between the two stands.
    if (state.loaded && !state.gone) {
      const empty = shown === 0 && !state.nextBefore && !state.query;
      emptyEl.hidden = !empty;
      workspaceEl.hidden = empty;
    }
    const unread = state.unread ? `(${state.unread} new) ` : "";
    document.title = unread + (bin.name || "Bin " + bin.id) + (shown ? ` (${state.received})` : "") + " · Inspector";
  }

  /** "812 of 1,000 kept", and a warning as the bin nears the point where it drops. */
  function refreshKept() {
    const max = bin.max_requests;
    const dropped = state.dropped ? ` · ${state.dropped.toLocaleString()} dropped` : "";
    const refused = state.refused ? ` · ${state.refused.toLocaleString()} refused` : "";
    keptEl.textContent = `${state.kept.toLocaleString()} of ${max.toLocaleString()} kept${dropped}${refused}`;
    const near = state.kept >= max * 0.9;
    keptEl.classList.toggle("is-near-cap", near);
    keptEl.title =
      (near
        ? `This bin keeps its newest ${max.toLocaleString()} requests: older ones are dropped as new ones arrive.`
        : `This bin keeps its newest ${max.toLocaleString()} requests.`) +
      (state.refused ? " Refused: answered 429 by the rate limits, not stored." : "");
  }

  listEl.addEventListener("animationend", (event) => event.target.classList?.remove("is-new"));

  return {
    addRequests,
    attemptsOf,
    clearAll,
    dropMissing,
    markSelected,
    newestId,
    noteArrivals,
    refreshCounts,
    removeRequest,
  };
}
