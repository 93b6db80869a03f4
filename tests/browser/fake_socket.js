// A scripted stand-in for the browser's WebSocket, so realtime.js's protocol behaviour
// (resume, duplicates, resync, write retries, backoff) can be driven frame by frame.
// Loaded into a page with context.add_init_script(path=...) (the pages' policy
// refuses a script tag added by a test).
window.FakeSocket = class FakeSocket {
  static sockets = [];
  static refuse = false; // the next sockets fail to open (server down)
  static identity = { kind: "user", id: 7, name: "张党员" };
  static autoHello = true;

  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    this.closed = false;
    this.closedBy = null;
    FakeSocket.sockets.push(this);
    const refuse = FakeSocket.refuse;
    setTimeout(() => {
      if (refuse) return this._fireClose(1006, "", "server");
      this.readyState = 1;
      if (this.onopen) this.onopen({});
    }, 0);
  }

  static get last() {
    return FakeSocket.sockets[FakeSocket.sockets.length - 1];
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("socket not open");
    const frame = JSON.parse(text);
    this.sent.push(frame);
    if (frame.op === "hello" && FakeSocket.autoHello) {
      this.reply(frame, { protocol: 1, identity: FakeSocket.identity, connection: "fake" });
    }
  }

  close(code = 1000, reason = "") {
    if (this.closed) return;
    this.readyState = 2;
    setTimeout(() => this._fireClose(code, reason, "client"), 0);
  }

  // -- the "server" side ---------------------------------------------------------------
  // Frames are delivered asynchronously and in the order they were pushed, as a real
  // socket would (timers with equal delays run first-in, first-out).
  push(frame) {
    setTimeout(() => {
      if (!this.closed && this.onmessage) this.onmessage({ data: JSON.stringify(frame) });
    }, 0);
  }

  reply(request, data) {
    this.push({ op: "ok", ref: request.ref, data });
  }

  fail(request, code, message, details) {
    this.push({ op: "error", ref: request.ref, code, message, details });
  }

  drop(code = 1006) {
    this._fireClose(code, "", "server");
  }

  sentOf(op) {
    return this.sent.filter((f) => f.op === op);
  }

  _fireClose(code, reason, by) {
    if (this.closed) return;
    this.closed = true;
    this.closedBy = by;
    this.readyState = 3;
    if (this.onclose) this.onclose({ code, reason });
  }
};

window.until = async (predicate, what = "condition", ms = 3000) => {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};
