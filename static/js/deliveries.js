// Deliveries: a provider retries a webhook with the same delivery id, so requests
// that share one are attempts of one delivery. Worked out here, from headers and
// the start of the body every list item carries.

import { parseTime } from "./common.js";

// Header names (lower case) that carry a provider's delivery id.
const DELIVERY_HEADERS = [
  "x-github-delivery", // GitHub
  "webhook-id", // Standard Webhooks
  "svix-id", // Svix
  "x-shopify-webhook-id", // Shopify
  "x-gitlab-event-uuid", // GitLab
  "x-twilio-idempotency-token", // Twilio
];

/** The delivery id of a request (a list item or a detail), or null. */
export function deliveryId(req, extraHeader) {
  const headers = req.headers || [];
  const names = extraHeader ? [extraHeader.toLowerCase(), ...DELIVERY_HEADERS] : DELIVERY_HEADERS;
  for (const name of names) {
    const pair = headers.find(([key]) => key.toLowerCase() === name);
    if (pair && pair[1]) return `${name}:${pair[1]}`;
  }
  // Stripe signs its events; their id comes first in the body: "id": "evt_...".
  if (headers.some(([key]) => key.toLowerCase() === "stripe-signature")) {
    const match = /"id"\s*:\s*"(evt_[A-Za-z0-9]+)"/.exec(req.body_preview || req.body_text || "");
    if (match) return `stripe:${match[1]}`;
  }
  return null;
}

/**
 * Attempts per delivery id: Map<id, [{id, at}] oldest first>, from the page's items.
 */
export function groupDeliveries(requests, extraHeader) {
  const groups = new Map();
  for (const req of requests) {
    const key = deliveryId(req, extraHeader);
    if (!key) continue;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ id: req.id, at: parseTime(req.received_at) });
  }
  for (const attempts of groups.values()) attempts.sort((a, b) => a.id - b.id);
  return groups;
}

/** "+42 s", "+3 min", "+2 h" between two attempts. */
export function gap(from, to) {
  const seconds = Math.max(0, Math.round((to - from) / 1000));
  if (seconds < 120) return `+${seconds} s`;
  if (seconds < 7200) return `+${Math.round(seconds / 60)} min`;
  return `+${Math.round(seconds / 3600)} h`;
}
