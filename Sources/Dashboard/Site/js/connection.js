// The one WebSocket to the cluster: the envelope's requests and replies, events, authentication
// first, and reconnection with backoff. Views never touch the socket; they call request() and
// listen for events. The token is only ever sent inside auth.operator, never logged or put in a URL.

const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 15000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 8000;

/** An error reply (or a lost connection) for one request. */
export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * States: "connecting" (first attempt), "online" (authenticated), "reconnecting" (lost, retrying),
 * "refused" (the token was refused: no retry), "closed" (signed out).
 */
export class Connection extends EventTarget {
  #url;
  #token;
  #socket = null;
  #nextId = 1;
  #pending = new Map();
  #backoff = BACKOFF_MIN_MS;
  #retryTimer = null;
  state = "closed";
  identity = null;

  constructor(url) {
    super();
    this.#url = url;
  }

  /** The cluster's WebSocket address on the page's own origin: wss when the page came over https. */
  static urlForPage(location) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/`;
  }

  /** Connects and signs in with `token`; reconnects with it until close() or a refusal. */
  open(token) {
    this.#token = token;
    this.#backoff = BACKOFF_MIN_MS;
    this.#setState("connecting");
    this.#connect();
  }

  close() {
    this.#token = null;
    clearTimeout(this.#retryTimer);
    this.#setState("closed");
    this.#socket?.close(1000, "signed out");
    this.#socket = null;
    this.#failPending("closed", "signed out");
  }

  /** Sends a request and resolves with its reply's data, or rejects with a RequestError. */
  request(op, data = {}) {
    if (this.state !== "online") {
      return Promise.reject(new RequestError("offline", "not connected"));
    }
    return this.#send(op, data);
  }

  #send(op, data) {
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestError("timeout", `${op}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.send(JSON.stringify({ v: PROTOCOL_VERSION, id, op, data }));
    });
  }

  #connect() {
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener("open", () => this.#authenticate(socket));
    socket.addEventListener("message", (message) => this.#receive(message.data));
    socket.addEventListener("close", () => this.#lost(socket));
  }

  async #authenticate(socket) {
    try {
      this.identity = await this.#send("auth.operator", { token: this.#token });
      this.#backoff = BACKOFF_MIN_MS;
      this.#setState("online");
    } catch (error) {
      if (socket !== this.#socket) return;
      if (error.code === "auth_failed" || error.code === "forbidden") {
        this.#token = null;
        this.#setState("refused", error.message);
        socket.close();
      }
      // Anything else (a timeout, a closed socket) is retried by the close handler.
    }
  }

  #receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.ev) {
      this.dispatchEvent(new CustomEvent(message.ev, { detail: message.data ?? {} }));
      return;
    }
    const pending = this.#pending.get(message.re);
    if (!pending) return;
    this.#pending.delete(message.re);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data ?? {});
    else pending.reject(new RequestError(message.error?.code ?? "internal", message.error?.message ?? "request failed"));
  }

  #lost(socket) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#failPending("offline", "connection lost");
    if (this.state === "closed" || this.state === "refused") return;
    this.#setState("reconnecting");
    const delay = this.#backoff * (0.75 + Math.random() * 0.5);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #failPending(code, text) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(new RequestError(code, text));
    }
    this.#pending.clear();
  }

  #setState(state, reason = "") {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason } }));
  }
}
