// Replay and forwarding in the detail of a request (issue 7): its deliveries to the
// bin's forward targets with their attempts and "Retry now", a Replay form (edits
// optional), and its replays with what each target answered, beside the original.
// Live: `delivery.updated` and `replay.created` refresh what the shown request has.
// Built with el()/textContent only.

import {
  api,
  el,
  formatBytes,
  formatLocalTime,
  headerLines,
  latin1ToDisplay,
  relativeTime,
  toast,
} from "./common.js";

const LAST_URL = "inspector.replay-url";
const STATES = { pending: "Pending", paused: "Paused (target off)", delivered: "Delivered", failed: "Failed" };

let shown = null; // {req, section, apiBase, canEdit}

/**
 * Add the "Replay & forwarding" section to the detail `article` of `req`; `canEdit`
 * (not a read-only share link) offers the Replay form and "Retry now"; `isOwner` says
 * whether masked headers are replayed as captured (else as the mask).
 */
export function showOutbound(article, req, { apiBase, canEdit, isOwner }) {
  if (!article) return;
  const section = el("section", { class: "detail-section outbound", id: "outbound" });
  // After what the sender was answered: then where the request went on to.
  const answered = article.querySelector("#response-sent")?.closest("section");
  if (answered) answered.after(section);
  else article.append(section);
  shown = { req, section, apiBase, canEdit, deliveries: null, replays: null };
  section.append(
    el("h3", null, "Replay & forwarding"),
    el("div", { class: "outbound-deliveries", id: "deliveries" }),
    canEdit ? replayForm(req, apiBase, isOwner) : null,
    el("div", { class: "outbound-replays", id: "replays" }),
  );
  refresh("deliveries");
  refresh("replays");
}

/** A live event: what the shown request has may have changed. */
export function outboundEvent(message) {
  if (!shown) return;
  if (message.type === "delivery.updated" && message.delivery?.request === shown.req.id) refresh("deliveries");
  if (message.type === "replay.created" && message.replay?.request === shown.req.id) refresh("replays");
}

function requestPath(current) {
  return `${current.apiBase}/requests/${encodeURIComponent(current.req.id)}`;
}

async function refresh(what) {
  const current = shown;
  try {
    const data = await api(`${requestPath(current)}/${what}`);
    if (current !== shown || !current.section.isConnected) return;
    const box = current.section.querySelector(`#${what}`);
    box.replaceChildren(...(what === "deliveries" ? renderDeliveries(data.deliveries) : renderReplays(data.replays)));
  } catch (err) {
    if (current === shown && err.status !== 404) toast(`Could not load the ${what}: ${err.message}`, "error");
  }
}

// ---------------------------------------------------------------- deliveries

function renderDeliveries(deliveries) {
  if (!deliveries.length) return [];
  return [
    el("h4", null, "Forwarded to"),
    el("ul", { class: "delivery-list" }, deliveries.map(renderDelivery)),
  ];
}

function renderDelivery(delivery) {
  const state = el("span", { class: `tag out-${delivery.state}` }, STATES[delivery.state] || delivery.state);
  const tries = delivery.attempt_count;
  const count =
    delivery.state === "pending"
      ? `${tries} of ${delivery.max_attempts} attempts`
      : `${tries} ${tries === 1 ? "attempt" : "attempts"}`;
  const next =
    delivery.state === "pending" && delivery.attempt_count
      ? el("span", { class: "muted small" }, ` · next ${relativeTime(delivery.next_attempt_at)}`)
      : null;
  let retry = null;
  if (shown.canEdit && delivery.state !== "delivered") {
    retry = el("button", { type: "button", class: "btn btn-small", dataset: { retry: delivery.id } }, "Retry now");
    retry.addEventListener("click", () => retryNow(delivery, retry));
  }
  return el(
    "li",
    { class: "delivery", dataset: { id: delivery.id, state: delivery.state } },
    el(
      "div",
      { class: "delivery-head" },
      el("span", { class: "mono delivery-url" }, delivery.target.url),
      state,
      delivery.proxied ? el("span", { class: "tag", title: "The sender got this target's answer" }, "proxy") : null,
      el("span", { class: "muted small" }, count),
      next,
      retry,
    ),
    delivery.attempts.length ? el("ol", { class: "attempt-list" }, delivery.attempts.map(renderAttempt)) : null,
  );
}

function renderAttempt(attempt) {
  const when = el("time", { datetime: attempt.at, title: attempt.at }, formatLocalTime(attempt.at));
  const how = attempt.trigger === "auto" ? "" : ` (${attempt.trigger})`;
  return el(
    "li",
    { class: `attempt-row out-${attempt.outcome}` },
    when,
    how,
    " · ",
    answerLine(attempt),
    attempt.body_preview ? " · " : null,
    attempt.body_preview ? el("code", { class: "answer-snippet", title: attempt.body_preview }, attempt.body_preview) : null,
  );
}

/** "201 in 12 ms" or the error, in plain words. */
function answerLine(answer) {
  const took = answer.duration_ms !== null && answer.duration_ms !== undefined ? ` in ${answer.duration_ms} ms` : "";
  if (answer.error) {
    const status = answer.status ? `${answer.status}, then ` : "";
    return el("span", { class: "answer-error" }, `${status}${answer.error}${took}`);
  }
  // Forwarding follows no redirect: say where it pointed.
  const location = answer.status >= 300 && answer.status < 400
    ? (answer.headers || []).find(([name]) => name.toLowerCase() === "location")?.[1]
    : null;
  return el(
    "span",
    { class: "answer-status" },
    el("strong", null, String(answer.status)),
    location ? ` → ${latin1ToDisplay(location)} (not followed)` : null,
    took,
  );
}

async function retryNow(delivery, button) {
  button.disabled = true;
  try {
    const done = await api(`${requestPath(shown)}/deliveries/${delivery.id}/retry`, { method: "POST" });
    const last = done.attempts.at(-1);
    toast(last?.error ? `Retried: ${last.error}` : `Retried: the target answered ${last?.status}.`);
    refresh("deliveries");
  } catch (err) {
    toast(`Could not retry: ${err.message}`, "error");
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- replay

function replayForm(req, apiBase, isOwner) {
  const url = el("input", {
    id: "replay-url",
    type: "url",
    class: "mono",
    required: true,
    maxlength: 2000,
    spellcheck: "false",
    placeholder: "https://your-app.example.com/webhooks",
    value: localStorage.getItem(LAST_URL) || "",
  });
  const method = el("input", { id: "replay-method", type: "text", class: "mono", value: req.method, maxlength: 64, spellcheck: "false" });
  const path = el("input", { id: "replay-path", type: "text", class: "mono", value: req.path, spellcheck: "false" });
  const query = el("input", { id: "replay-query", type: "text", class: "mono", value: req.query_string, spellcheck: "false" });
  const headersText = (req.masked_headers || []).length
    ? null // masked values cannot be edited here: the server fills them in (or the mask)
    : req.headers.map(([name, value]) => `${name}: ${latin1ToDisplay(value)}`).join("\n");
  const headers = el("textarea", { id: "replay-headers", rows: 4, class: "mono", spellcheck: "false" }, headersText ?? "");
  const body = el("textarea", { id: "replay-body", rows: 5, class: "mono", spellcheck: "false" }, req.body_text ?? "");
  const textBody = req.body_text !== null && req.body_text !== undefined && !req.body_preview_cut && !req.body_truncated;
  const edit = el(
    "details",
    { class: "replay-edit" },
    el("summary", null, "Edit before sending"),
    el(
      "div",
      { class: "response-row response-row-wrap" },
      el("label", null, "Method ", method),
      el("label", { class: "grow" }, "Path below the URL ", path),
      el("label", { class: "grow" }, "Query ", query),
    ),
    headersText === null
      ? el(
          "p",
          { class: "muted small" },
          isOwner
            ? "This bin masks some headers: they are sent as captured, and cannot be edited here."
            : "This bin masks some headers: only its owner replays their values; yours send the mask.",
        )
      : el("label", { for: "replay-headers" }, "Headers, one a line"),
    headersText === null ? null : headers,
    textBody
      ? el("label", { for: "replay-body" }, "Body")
      : el("p", { class: "muted small" }, "The body is not text (or is shown cut): it is sent as captured."),
    textBody ? body : null,
  );
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const send = el("button", { type: "submit", class: "btn btn-small btn-primary", id: "replay-send" }, "Replay");
  const form = el(
    "form",
    { class: "replay-form", id: "replay-form" },
    el("label", { for: "replay-url" }, "Send this request again to"),
    el("div", { class: "inline-form inline-form-flush" }, url, send),
    el("p", { class: "muted small" }, "The path below the bin and the query are added to this URL. The server sends it: private and loopback addresses are refused unless allowed."),
    edit,
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const request = { url: url.value.trim() };
    if (edit.open) {
      if (method.value !== req.method) request.method = method.value.trim();
      if (path.value !== req.path) request.path = path.value;
      if (query.value !== req.query_string) request.query_string = query.value;
      if (headersText !== null && headers.value !== headersText) {
        try {
          request.headers = headerLines(headers.value);
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
          return;
        }
      }
      if (textBody && body.value !== req.body_text) request.body = body.value;
    }
    send.disabled = true;
    send.textContent = "Sending…";
    try {
      const replay = await api(`${apiBase}/requests/${encodeURIComponent(req.id)}/replays`, { method: "POST", body: request });
      localStorage.setItem(LAST_URL, request.url);
      toast(replay.response.error ? `Replayed: ${replay.response.error}` : `Replayed: ${replay.response.status}.`);
      if (shown?.req.id === req.id) {
        await refresh("replays");
        openReplay(replay);
      }
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      send.disabled = false;
      send.textContent = "Replay";
    }
  });
  return form;
}

function renderReplays(replays) {
  if (!replays.length) return [];
  return [el("h4", null, "Replays"), el("ul", { class: "replay-list" }, replays.map(renderReplay))];
}

function renderReplay(replay) {
  const open = el("button", { type: "button", class: "link-button" }, `${replay.method} ${replay.url}`);
  const item = el(
    "li",
    { class: `replay out-${replay.response.error ? "error" : "answer"}`, dataset: { id: replay.id } },
    el(
      "div",
      { class: "replay-head" },
      open,
      replay.edited ? el("span", { class: "tag tag-warn" }, "edited") : null,
      el("span", { class: "muted small" }, ` ${relativeTime(replay.created_at)} · `),
      answerLine(replay.response),
    ),
  );
  open.addEventListener("click", async () => {
    if (item.querySelector(".replay-detail")) {
      item.querySelector(".replay-detail").remove();
      return;
    }
    try {
      openReplay(await api(`${requestPath(shown)}/replays/${replay.id}`));
    } catch (err) {
      toast(`Could not load the replay: ${err.message}`, "error");
    }
  });
  return item;
}

/** The whole replay under its line: what was sent, and what came back. */
function openReplay(replay) {
  const item = shown?.section.querySelector(`.replay[data-id="${replay.id}"]`);
  if (!item) return;
  item.querySelector(".replay-detail")?.remove();
  const answer = replay.response;
  const sentBody = replay.body_text ?? (replay.body_size ? `(${formatBytes(replay.body_size)} of binary data)` : "");
  const answerBody = answer.body_base64 ? `(${formatBytes(answer.body_size)} of binary data)` : answer.body;
  item.append(
    el(
      "div",
      { class: "replay-detail" },
      el(
        "div",
        { class: "replay-side" },
        el("h5", null, "Sent"),
        el("p", { class: "mono" }, `${replay.method} ${replay.url}`),
        headerTable(replay.headers),
        sentBody ? el("pre", { class: "code answer-preview" }, sentBody) : null,
      ),
      el(
        "div",
        { class: "replay-side", id: `replay-answer-${replay.id}` },
        el("h5", null, "Answer"),
        el("p", null, answerLine(answer)),
        answer.status ? headerTable(answer.headers) : null,
        answerBody ? el("pre", { class: "code answer-preview replay-answer-body" }, answerBody) : null,
        answer.body_truncated ? el("p", { class: "muted small" }, "The answer was cut at the size limit.") : null,
      ),
    ),
  );
}

function headerTable(headers) {
  if (!headers?.length) return null;
  return el(
    "table",
    { class: "kv" },
    el(
      "tbody",
      null,
      headers.map(([name, value]) => el("tr", null, el("td", { class: "kv-name" }, name), el("td", { class: "kv-value" }, latin1ToDisplay(value)))),
    ),
  );
}
