// Branchline's one WebSocket client, shared by every page (docs/protocol.md).
//
// A Connection opens ws(s)://<host>/ws/, says hello, and keeps itself alive:
// - reconnects with jittered exponential backoff (capped, reset once a connection
//   has stayed healthy for a while);
// - remembers the last seq seen per stream and re-subscribes with `since`, so the
//   server sends exactly what was missed; a `resync` frame replaces the state;
// - tags every write with a client id (`cid`) and, after a reconnect, re-sends
//   writes that were never acknowledged with the SAME cid, so the server replays the
//   original result instead of writing twice;
// - correlates replies by `ref` and turns error frames into rejected promises
//   carrying the server's code, message and details.

export const Status = Object.freeze({
  CONNECTING: "connecting",
  ONLINE: "online",
  OFFLINE: "offline",
  ENDED: "ended", // the server closed the session (logged out elsewhere, deactivated)
});

const CLOSE_AUTH_ENDED = 4401;
const CLOSE_RECONNECT = 4012; // the server asks for a fresh connection now (the person changed)

export class RealtimeError extends Error {
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = "RealtimeError";
    this.code = code;
    this.details = details || {};
  }
}

export function newClientId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  // randomUUID exists only in secure contexts; plain http on a LAN address is not one.
  const bytes = new Uint8Array(16);
  if (globalThis.crypto && crypto.getRandomValues) {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function defaultUrl(loc = globalThis.location) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/`;
}

/** Parse a Django json_script block; {} when it is absent. */
export function readJSON(id) {
  const el = document.getElementById(id);
  if (!el) return {};
  try {
    return JSON.parse(el.textContent);
  } catch {
    return {};
  }
}

/** "%(name)s" placeholders, as Django's gettext strings use them. */
export function interpolate(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (_, key) => (key in values ? String(values[key]) : ""));
}

/** Names as a list in the page's language: 张三、李四、王五 / Ann, Bo, Cy. (The "unit"
 * lists run Chinese names together with no separator at all.) */
export function listNames(names, lang = document.documentElement.lang) {
  try {
    return new Intl.ListFormat(lang, { style: "narrow", type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

/** A count badge (".count"): its first text node is the number; hidden at zero. */
export function showCount(badge, count) {
  badge.firstChild.textContent = String(count);
  badge.hidden = count === 0;
}

export class Connection {
  constructor({
    url = defaultUrl(),
    WebSocketImpl = globalThis.WebSocket,
    backoffBase = 500,
    backoffCap = 30000,
    healthyAfter = 10000,
    pingEvery = 25000,
    pingTimeout = 10000,
    random = Math.random,
    requireUser = false,
  } = {}) {
    this.url = url;
    this.WebSocketImpl = WebSocketImpl;
    this.backoffBase = backoffBase;
    this.backoffCap = backoffCap;
    this.healthyAfter = healthyAfter;
    this.pingEvery = pingEvery;
    this.pingTimeout = pingTimeout;
    this.random = random;
    this.requireUser = requireUser;

    this.status = Status.OFFLINE;
    this.socket = null;
    this.attempt = 0; // consecutive failed/short-lived connections
    this.retryAt = null; // when the next attempt starts (ms since epoch), while offline
    this.retryDelay = null; // the last backoff delay chosen (ms)
    this.identity = null;
    this.server = null; // the hello reply
    this.endedReason = null;
    // After the server ends a member's session, one immediate reconnect asks whether the
    // browser is still logged in: a password change or a new login gives the session a
    // new key and the old one is gone, but this browser's cookie already has the new one.
    this._recheckingSession = false;

    this._nextRef = 1;
    this._pending = new Map(); // ref -> {ok, err, write?} for the current socket only
    this._writes = new Map(); // cid -> unacknowledged write, in submission order
    this._streams = new Map(); // stream -> {lastSeq, handlers, resubscribing}
    this._extraEvents = new Map(); // stream -> [fn]: more listeners (listen())
    this._statusListeners = new Set();
    this._errorListeners = new Set();
    this._queueListeners = new Set();
    this._timers = { retry: null, healthy: null, ping: null, pingDeadline: null };
    this._started = false;
    this._stopped = false;
  }

  // -- public API -------------------------------------------------------------------

  start() {
    if (this._started) return this;
    this._started = true;
    if (typeof window !== "undefined" && window.addEventListener) {
      // Coming back online or to the foreground (a phone waking up): retry now
      // instead of sitting out the rest of a long backoff.
      this._wake = () => {
        if (this.status === Status.OFFLINE && !this._stopped) this._retryNow();
      };
      window.addEventListener("online", this._wake);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this._wake();
      });
    }
    this._open();
    return this;
  }

  /** Stop for good (no reconnect). */
  stop() {
    this._stopped = true;
    this._clearTimers();
    if (this.socket) this.socket.close(1000, "client stopped");
    this._setStatus(Status.OFFLINE);
  }

  /** fn(status, connection) now and on every change; returns an unsubscribe function. */
  onStatus(fn) {
    this._statusListeners.add(fn);
    fn(this.status, this);
    return () => this._statusListeners.delete(fn);
  }

  /** fn(RealtimeError) for error frames that answer no request of ours. */
  onError(fn) {
    this._errorListeners.add(fn);
    return () => this._errorListeners.delete(fn);
  }

  /** fn(count) with the number of writes not yet acknowledged by the server. */
  onQueue(fn) {
    this._queueListeners.add(fn);
    fn(this._writes.size);
    return () => this._queueListeners.delete(fn);
  }

  get unacknowledgedWrites() {
    return this._writes.size;
  }

  lastSeq(stream) {
    const sub = this._streams.get(stream);
    return sub ? sub.lastSeq : null;
  }

  /**
   * Follow a stream. handlers:
   *   snapshot(snapshot, seq, {resync})  fresh state: first subscribe, or a resync
   *   event(frame)                        each new event, in seq order, never twice
   *   presence({people, count}, left)    who is here: people is a Map id -> name of
   *                                       everyone, or null while more are here than the
   *                                       server lists (then only count is known); left:
   *                                       the ids that just left, when the server said
   *   ephemeral(frame)                    frames like {"op": "typing", "stream", ...}: not logged, not replayed
   *   error(RealtimeError)                the subscribe was refused (then it is dropped)
   * options:
   *   since     start after this seq (no snapshot): the page was rendered at that head
   *   here      false: follow without being listed as here (streams that allow it)
   */
  subscribe(stream, handlers = {}, { since = null, here = true } = {}) {
    if (this._streams.has(stream)) throw new Error(`already subscribed to ${stream}`);
    const sub = { lastSeq: since, here, handlers, resubscribing: false, presence: { people: new Map(), count: 0 } };
    this._streams.set(stream, sub);
    if (this.status === Status.ONLINE) this._sendSubscribe(stream, sub);
    return {
      unsubscribe: () => {
        this._streams.delete(stream);
        if (this.status === Status.ONLINE) this.request("unsubscribe", { stream }).catch(() => {});
      },
    };
  }

  /** Whether something on this page already follows `stream`. */
  follows(stream) {
    return this._streams.has(stream);
  }

  /**
   * Also hear each event of a stream another part of the page follows (its one
   * subscription keeps the order and the resume; this only listens). For a part of the
   * page that needs a stream only if the page follows it anyway.
   */
  listen(stream, fn) {
    if (!this._extraEvents.has(stream)) this._extraEvents.set(stream, []);
    this._extraEvents.get(stream).push(fn);
  }

  /**
   * Hear a stream's events: listen() where the page already follows it, else subscribe
   * (with `options`, e.g. the `since` the page was rendered at). For the header's and
   * the tabs' counts, which load after the page's own scripts.
   */
  hear(stream, fn, options = {}) {
    if (this.follows(stream)) this.listen(stream, fn);
    else this.subscribe(stream, { event: fn }, options);
  }

  /** A read (or an idempotent op): rejected if the connection drops before the reply. */
  request(op, args = {}) {
    return new Promise((resolve, reject) => {
      if (this.status !== Status.ONLINE) {
        reject(new RealtimeError(this.status === Status.ENDED ? "unauthenticated" : "offline", "not connected"));
        return;
      }
      this._send(op, args, { ok: resolve, err: reject });
    });
  }

  /**
   * A write: sent now if online, else as soon as the connection is back; re-sent with
   * the same cid after a reconnect until the server answers. Resolves with the reply
   * data (which has `replayed: true` when the server had already done it).
   */
  write(op, args = {}) {
    return new Promise((resolve, reject) => {
      if (this.status === Status.ENDED) {
        reject(new RealtimeError("unauthenticated", "session ended"));
        return;
      }
      const write = { op, args, cid: newClientId(), resolve, reject };
      this._writes.set(write.cid, write);
      this._emitQueue();
      if (this.status === Status.ONLINE) this._sendWrite(write);
    });
  }

  // -- socket lifecycle ---------------------------------------------------------------

  _open() {
    if (this._stopped || this.status === Status.ENDED) return;
    this._clearTimers();
    this.retryAt = null;
    this._setStatus(Status.CONNECTING);
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (err) {
      this._scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket === this.socket) this._handshake(socket);
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this._onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (socket === this.socket) this._onClose(event);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting happens there.
    };
  }

  _handshake(socket) {
    this._send("hello", {}, {
      ok: (data) => {
        if (socket !== this.socket) return;
        this.server = data;
        this.identity = data.identity || null;
        if (this.requireUser && (!this.identity || this.identity.kind !== "user")) {
          // The page was rendered for a signed-in member, but the socket arrived
          // without a session (logged out in another tab, session expired): that is
          // the answer, not a reason to ask again.
          this._recheckingSession = true;
          this.endedReason = "unauthenticated";
          socket.close(1000, "no session");
          return;
        }
        this._recheckingSession = false;
        this._setStatus(Status.ONLINE);
        // Only a connection that stays up resets the backoff: a server that accepts
        // and then drops us at once must not be hammered in a tight loop.
        this._timers.healthy = setTimeout(() => {
          this.attempt = 0;
        }, this.healthyAfter);
        for (const [stream, sub] of this._streams) this._sendSubscribe(stream, sub);
        for (const write of this._writes.values()) this._sendWrite(write);
        this._schedulePing();
      },
      err: (error) => {
        if (error.code === "disconnected") return; // the close handler retries
        this._emitError(error);
        if (socket === this.socket) socket.close(4000, "hello refused");
      },
    });
  }

  _onClose(event) {
    this.socket = null;
    this._clearTimers();
    const pending = this._pending;
    this._pending = new Map();
    for (const entry of pending.values()) {
      // Writes stay queued in this._writes and are re-sent with the same cid.
      if (!entry.write) entry.err(new RealtimeError("disconnected", "connection closed before the reply"));
    }
    for (const sub of this._streams.values()) sub.resubscribing = false;
    if (event && event.code === CLOSE_AUTH_ENDED) this.endedReason = this.endedReason || "unauthenticated";
    if (this.endedReason === "unauthenticated" && this.requireUser && !this._recheckingSession && !this._stopped) {
      // The hello of this reconnect decides: a member again, or ended (see _handshake).
      this.endedReason = null;
      this._recheckingSession = true;
      this._open();
      return;
    }
    if (this.endedReason) {
      this._end();
      return;
    }
    if (this._stopped) return;
    if (event && event.code === CLOSE_RECONNECT && this.attempt === 0) {
      // At once, without backoff; a second one before the connection proved healthy
      // backs off as usual, so a server that keeps asking is not hammered.
      this.attempt = 1;
      this._open();
      return;
    }
    this._scheduleRetry();
  }

  _end() {
    this._clearTimers();
    this._setStatus(Status.ENDED);
    for (const write of this._writes.values()) {
      write.reject(new RealtimeError("unauthenticated", "session ended"));
    }
    this._writes.clear();
    this._emitQueue();
  }

  _scheduleRetry() {
    const ceiling = Math.min(this.backoffCap, this.backoffBase * 2 ** this.attempt);
    this.attempt += 1;
    // "Equal jitter": at least half the ceiling, so clients that lost the same server
    // spread out without any of them retrying immediately.
    const delay = Math.round(ceiling / 2 + this.random() * (ceiling / 2));
    this.retryDelay = delay;
    this.retryAt = Date.now() + delay;
    this._setStatus(Status.OFFLINE);
    this._timers.retry = setTimeout(() => this._open(), delay);
  }

  _retryNow() {
    clearTimeout(this._timers.retry);
    this._open();
  }

  _schedulePing() {
    clearTimeout(this._timers.ping);
    this._timers.ping = setTimeout(() => {
      const socket = this.socket;
      if (!socket || this.status !== Status.ONLINE) return;
      // A half-open connection (laptop lid, lost Wi-Fi) never fires close by itself.
      this._timers.pingDeadline = setTimeout(() => {
        if (socket === this.socket) socket.close(4000, "ping timeout");
      }, this.pingTimeout);
      this._send("ping", {}, {
        ok: () => {
          clearTimeout(this._timers.pingDeadline);
          this._schedulePing();
        },
        err: () => {},
      });
    }, this.pingEvery);
  }

  _clearTimers() {
    for (const key of Object.keys(this._timers)) {
      clearTimeout(this._timers[key]);
      this._timers[key] = null;
    }
  }

  // -- sending ------------------------------------------------------------------------

  _send(op, args, entry, cid) {
    const ref = this._nextRef++;
    const frame = { op, ref, args };
    if (cid) frame.cid = cid;
    this._pending.set(ref, entry);
    try {
      this.socket.send(JSON.stringify(frame));
    } catch (err) {
      // The socket is closing; its close event settles this entry.
    }
    return ref;
  }

  _sendWrite(write) {
    this._send(
      write.op,
      write.args,
      {
        write: true,
        ok: (data) => {
          this._writes.delete(write.cid);
          this._emitQueue();
          write.resolve(data);
        },
        err: (error) => {
          this._writes.delete(write.cid);
          this._emitQueue();
          write.reject(error);
        },
      },
      write.cid,
    );
  }

  _sendSubscribe(stream, sub) {
    const args = { stream };
    if (sub.lastSeq !== null) args.since = sub.lastSeq;
    if (!sub.here) args.here = false;
    sub.resubscribing = true;
    this._send("subscribe", args, {
      ok: (data) => {
        if (this._streams.get(stream) !== sub) return;
        sub.resubscribing = false;
        if ("snapshot" in data) {
          sub.lastSeq = data.seq;
          if (sub.handlers.snapshot) sub.handlers.snapshot(data.snapshot, data.seq, { resync: false });
        } else if (sub.lastSeq === null) {
          sub.lastSeq = data.head;
        }
        if (data.presence) this._presenceFrom(stream, sub, data);
      },
      err: (error) => {
        if (this._streams.get(stream) !== sub) return;
        if (error.code === "disconnected") return; // re-sent on the next connection
        this._streams.delete(stream);
        if (sub.handlers.error) sub.handlers.error(error);
        else this._emitError(error);
      },
    });
  }

  // -- presence -----------------------------------------------------------------------

  /** A full answer (subscribe reply, or the presence op): everyone, or past the limit only how many. */
  _presenceFrom(stream, sub, data) {
    const list = data.presence || [];
    const count = typeof data.presence_count === "number" ? data.presence_count : list.length;
    sub.presence = { people: list.length >= count ? new Map(list.map((p) => [p.id, p.name])) : null, count };
    if (sub.handlers.presence) sub.handlers.presence(sub.presence, []);
  }

  /** A presence frame: changes while the stream is small enough to list, else only the count. */
  _onPresence(stream, sub, frame) {
    const state = sub.presence;
    const listed = Array.isArray(frame.joined) && Array.isArray(frame.left);
    if (!listed) {
      state.people = null;
    } else if (state.people) {
      for (const p of frame.joined) state.people.set(p.id, p.name);
      for (const key of frame.left) state.people.delete(key);
    } else if (!sub.presenceAsked) {
      // The crowd got small enough to list again: ask once for the whole list.
      sub.presenceAsked = true;
      this.request("presence", { stream })
        .then((data) => {
          if (this._streams.get(stream) === sub) this._presenceFrom(stream, sub, data);
        })
        .catch(() => {})
        .finally(() => {
          sub.presenceAsked = false;
        });
    }
    state.count = typeof frame.count === "number" ? frame.count : state.people ? state.people.size : state.count;
    if (sub.handlers.presence) sub.handlers.presence(state, listed ? frame.left : []);
  }

  // -- receiving ----------------------------------------------------------------------

  _onFrame(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.op) {
      case "ok":
      case "error": {
        const entry = frame.ref === null || frame.ref === undefined ? null : this._pending.get(frame.ref);
        if (!entry) {
          if (frame.op === "error") this._emitError(new RealtimeError(frame.code, frame.message, frame.details));
          return;
        }
        this._pending.delete(frame.ref);
        if (frame.op === "ok") entry.ok(frame.data || {});
        else entry.err(new RealtimeError(frame.code, frame.message, frame.details));
        return;
      }
      case "event":
        this._onEvent(frame);
        return;
      case "resync": {
        const sub = this._streams.get(frame.stream);
        if (!sub) return;
        sub.lastSeq = frame.seq;
        if (sub.handlers.snapshot) sub.handlers.snapshot(frame.snapshot, frame.seq, { resync: true });
        return;
      }
      case "presence": {
        const sub = this._streams.get(frame.stream);
        if (sub) this._onPresence(frame.stream, sub, frame);
        return;
      }
      case "closing":
        this.endedReason = frame.code || "closing";
        return; // the close that follows ends the connection
      case "unsubscribed": {
        // The server took this socket off a stream: the person was removed from a
        // meeting (the page says so), or may no longer read it at all (taken off the
        // branch): then it is not subscribed again after a reconnect either.
        const sub = this._streams.get(frame.stream);
        if (!sub) return;
        if (sub.handlers.ephemeral) sub.handlers.ephemeral(frame);
        if (frame.reason === "forbidden") {
          this._streams.delete(frame.stream);
          if (sub.handlers.error) sub.handlers.error(new RealtimeError("unsubscribed", ""));
        }
        return;
      }
      default: {
        // Ephemeral frames on a followed stream (typing indicators): no seq, never
        // replayed, so they bypass the ordering above.
        const sub = typeof frame.stream === "string" ? this._streams.get(frame.stream) : null;
        if (sub && sub.handlers.ephemeral) sub.handlers.ephemeral(frame);
        return;
      }
    }
  }

  _onEvent(frame) {
    const sub = this._streams.get(frame.stream);
    if (!sub || typeof frame.seq !== "number") return;
    if (sub.lastSeq !== null && frame.seq <= sub.lastSeq) return; // a duplicate
    if (sub.lastSeq !== null && frame.seq > sub.lastSeq + 1) {
      // A hole: never apply out of order. Ask the server for everything after what we
      // have; the events it replays arrive in order and fill the hole.
      if (!sub.resubscribing && this.status === Status.ONLINE) this._sendSubscribe(frame.stream, sub);
      return;
    }
    sub.lastSeq = frame.seq;
    if (sub.handlers.event) sub.handlers.event(frame);
    for (const fn of this._extraEvents.get(frame.stream) || []) fn(frame);
  }

  // -- listeners ----------------------------------------------------------------------

  _setStatus(status) {
    if (this.status === status && status !== Status.OFFLINE) return;
    this.status = status;
    for (const fn of this._statusListeners) {
      try {
        fn(status, this);
      } catch (err) {
        console.error(err);
      }
    }
  }

  _emitError(error) {
    if (this._errorListeners.size === 0) console.warn("branchline:", error.code, error.message);
    for (const fn of this._errorListeners) fn(error);
  }

  _emitQueue() {
    for (const fn of this._queueListeners) fn(this._writes.size);
  }
}

let shared = null;

/** The page's one connection, started on first use. */
export function connection() {
  if (!shared) {
    // base.html marks pages rendered for a signed-in member.
    const requireUser = document.body && document.body.dataset.signedIn === "true";
    shared = new Connection({ requireUser });
    shared.start();
  }
  return shared;
}

/**
 * The server's messages are bilingual literals, "中文 (English)"; show the half in the
 * page's language. Anything else is shown as sent.
 */
export function localMessage(message, lang = document.documentElement.lang) {
  const match = /^(.*[\u3400-\u9fff].*?)\s*\(([^()\u3400-\u9fff]+)\)\s*$/u.exec(message || "");
  if (!match) return message || "";
  return String(lang || "").toLowerCase().startsWith("zh") ? match[1] : match[2];
}

/** Translated text for an error, with the server's own message as the detail. */
export function describeError(error, strings) {
  const headline = strings[`error_${error.code}`] || strings.error_unknown || "";
  const serverMessage = error.message && error.message !== error.code ? localMessage(error.message) : "";
  if (["offline", "disconnected"].includes(error.code) || !serverMessage) return headline;
  return headline ? `${headline} (${serverMessage})` : serverMessage;
}

/** Keep a status element's data-status and text in step with the connection. */
export function bindStatusIndicator(conn, element, strings) {
  if (!element) return () => {};
  const text = element.querySelector(".conn-text") || element;
  const retry = element.querySelector(".conn-retry");
  let ticker = null;
  const countdown = () => {
    if (!retry) return;
    const seconds = conn.retryAt ? Math.max(1, Math.ceil((conn.retryAt - Date.now()) / 1000)) : null;
    retry.textContent = seconds ? ` · ${interpolate(strings.status_retry, { seconds })}` : "";
  };
  const render = (status) => {
    element.dataset.status = status;
    clearInterval(ticker);
    ticker = null;
    const words = {
      [Status.ONLINE]: strings.status_online,
      [Status.CONNECTING]: strings.status_connecting,
      [Status.OFFLINE]: strings.status_offline,
      [Status.ENDED]: strings.status_ended,
    };
    if (text.textContent !== words[status]) text.textContent = words[status];
    if (retry) retry.textContent = "";
    if (status === Status.OFFLINE) {
      countdown();
      ticker = setInterval(countdown, 1000);
    }
  };
  return conn.onStatus(render);
}
