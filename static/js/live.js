// A bin's websocket that keeps itself connected: exponential backoff with jitter,
// a fresh connection when the page comes back after being hidden for a while (a
// day-old socket can silently stop receiving), and on the browser's "online" event.

const BACKOFF_START = 500;
const BACKOFF_MAX = 10000;
const STALE_AFTER_HIDDEN = 60000;
// Daphne closes websockets after a day, and a server that does not renew group
// memberships (channels' group_expiry, a day) stops relaying: start afresh well before.
const REFRESH_EVERY = 6 * 3600 * 1000;
export const BIN_NOT_FOUND = 4404;
export const NO_ACCESS = 4403;

export class LiveSocket {
  /**
   * url(): the URL to connect to now (it carries ?after=<highest id seen>).
   * onOpen(), onEvent(message), onGone(), onDenied(): what happened.
   * onState(name, label): name is connecting, live, reconnecting or offline.
   */
  constructor({ url, onOpen, onEvent, onState, onGone, onDenied }) {
    Object.assign(this, { url, onOpen, onEvent, onState, onGone, onDenied });
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.refresh = null;
    this.hiddenAt = null;
    this.stopped = false;

    document.addEventListener("visibilitychange", () => this.visibilityChanged());
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => {
      if (!this.isOpen()) this.setState("offline", "Offline");
    });
  }

  isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  setState(name, label) {
    if (!this.stopped) this.onState(name, label);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.drop();
    const ws = new WebSocket(this.url());
    this.socket = ws;
    this.setState(this.attempt ? "reconnecting" : "connecting", this.attempt ? "Reconnecting…" : "Connecting…");

    ws.addEventListener("open", () => {
      if (this.socket !== ws) return;
      this.attempt = 0;
      clearTimeout(this.refresh);
      this.refresh = setTimeout(() => this.reconnectNow(), REFRESH_EVERY);
      this.setState("live", "Live");
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      if (this.socket !== ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message.type === "string") this.onEvent(message);
    });
    ws.addEventListener("close", (event) => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (event.code === BIN_NOT_FOUND || event.code === NO_ACCESS) {
        this.stop();
        if (event.code === BIN_NOT_FOUND) this.onGone();
        else this.onDenied();
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (!navigator.onLine) {
      this.setState("offline", "Offline");
      return; // the "online" event reconnects
    }
    const base = Math.min(BACKOFF_MAX, BACKOFF_START * 2 ** this.attempt);
    const delay = base * (0.5 + Math.random() * 0.5);
    this.attempt += 1;
    this.setState("reconnecting", this.attempt > 4 ? "Offline, retrying…" : "Reconnecting…");
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    this.connect();
  }

  visibilityChanged() {
    if (document.hidden) {
      this.hiddenAt = Date.now();
      return;
    }
    const away = this.hiddenAt ? Date.now() - this.hiddenAt : 0;
    this.hiddenAt = null;
    if (!this.isOpen() || away > STALE_AFTER_HIDDEN) this.reconnectNow();
  }

  /** Close the current socket without reconnecting from its close event. */
  drop() {
    const old = this.socket;
    this.socket = null;
    if (old) {
      try {
        old.close(1000);
      } catch {
        // already closing
      }
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.refresh);
    this.drop();
  }
}
