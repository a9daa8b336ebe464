// troupe-realtime.js — the browser client of Troupe's realtime routes.
// No dependencies; works as a classic script (window.TroupeRealtime) or an
// ES module import of the same file's global. Protocol: docs/realtime.md.
//
//   const rt = new TroupeRealtime("/api/v2/rooms/lobby", {
//     onMessage: (m) => console.log(m.room, m.seq, m.sender, m.data),
//   });
//   rt.publish("chat.lobby", { text: "hi" });   // or rt.send({ text: "hi" })
//   rt.join("notes");                           // rooms the client chose
//
// It reconnects with exponential back-off and full jitter, waits the delay a
// shutting-down server asks for, and resumes every room from the last
// position it saw, so a reconnect loses nothing the rooms' history still
// holds (a "joined" message with gap: true says when it does). A heartbeat
// ping detects a dead connection the browser has not noticed.
(function (global) {
  "use strict";

  var defaults = {
    transport: "auto", // "websocket", "sse", or "auto": WebSocket unless unavailable
    minBackoff: 500, // ms; the first retry waits up to this
    maxBackoff: 30000, // ms; retries never wait longer
    pingInterval: 20000, // ms between heartbeat pings (WebSocket)
    pongTimeout: 10000, // ms without any message after a ping before reconnecting
    onMessage: null, // a room message: {room, seq, time, sender, data}
    onEvent: null, // every server message, parsed, including the above
    onOpen: null,
    onClose: null, // {code, reason, willReconnect}
    // shouldReconnect decides after a close with code: by default always,
    // except after a normal close (1000), which the server sends when it is done.
    shouldReconnect: function (code) {
      return code !== 1000;
    },
  };

  function TroupeRealtime(url, options) {
    if (!(this instanceof TroupeRealtime)) return new TroupeRealtime(url, options);
    this.url = url;
    this.options = {};
    for (var k in defaults) this.options[k] = defaults[k];
    for (var o in options || {}) this.options[o] = options[o];
    this.positions = {}; // room -> last seq seen
    this.joined = {}; // rooms joined with join(), rejoined on reconnect
    this.attempt = 0;
    this.closed = false;
    this.nextDelay = null; // set by a server's reconnect hint
    this.open = false;
    this._connect();
  }

  var proto = TroupeRealtime.prototype;

  // join joins room (and resumes it after a reconnect); since resumes from a
  // known position.
  proto.join = function (room, since) {
    this.joined[room] = true;
    if (since !== undefined && this.positions[room] === undefined) this.positions[room] = since;
    this._op({ op: "join", room: room, since: this.positions[room] });
  };

  proto.leave = function (room) {
    delete this.joined[room];
    this._op({ op: "leave", room: room });
  };

  proto.publish = function (room, data) {
    this._op({ op: "publish", room: room, data: data });
  };

  // members asks for a room's members; the answer is a "members" event.
  proto.members = function (room) {
    this._op({ op: "presence", room: room });
  };

  // send sends a message that is not an operation: for the endpoint's
  // handler actor, or published to its room.
  proto.send = function (data) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(typeof data === "string" ? data : JSON.stringify(data));
    return true;
  };

  proto.close = function () {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this._stopHeartbeat();
    if (this.ws) this.ws.close(1000, "bye");
    if (this.es) this.es.close();
  };

  proto._op = function (op) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(op));
  };

  // _target is the URL with the positions to resume from.
  proto._target = function (scheme) {
    var u = new URL(this.url, global.location ? global.location.href : undefined);
    if (scheme) u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    var since = [];
    for (var room in this.positions) since.push(room + ":" + this.positions[room]);
    if (since.length) u.searchParams.set("since", since.join(","));
    return u.toString();
  };

  proto._connect = function () {
    if (this.closed) return;
    var t = this.options.transport;
    if (t === "sse" || (t === "auto" && typeof global.WebSocket !== "function")) this._connectSSE();
    else this._connectWS();
  };

  proto._connectWS = function () {
    var self = this;
    var ws = new global.WebSocket(this._target(true));
    this.ws = ws;
    ws.onopen = function () {
      self.open = true;
      self._startHeartbeat();
      for (var room in self.joined) {
        ws.send(JSON.stringify({ op: "join", room: room, since: self.positions[room] }));
      }
      if (self.options.onOpen) self.options.onOpen();
    };
    ws.onmessage = function (ev) {
      self._seen();
      if (typeof ev.data === "string") self._handle(ev.data);
    };
    ws.onclose = function (ev) {
      self._stopHeartbeat();
      if (self.ws !== ws) return;
      self._closed(ev.code, ev.reason);
    };
  };

  proto._connectSSE = function () {
    var self = this;
    var es = new global.EventSource(this._target(false));
    this.es = es;
    es.onopen = function () {
      self.open = true;
      if (self.options.onOpen) self.options.onOpen();
    };
    es.onmessage = function (ev) {
      self._handle(ev.data);
    };
    es.addEventListener("reconnect", function (ev) {
      self._handle(ev.data);
    });
    es.addEventListener("close", function (ev) {
      var c = JSON.parse(ev.data);
      es.close();
      self._closed(c.code, c.reason);
    });
    // EventSource reconnects by itself, sending Last-Event-ID; ours does the
    // same with back-off and the positions of every room.
    es.onerror = function () {
      if (self.es !== es) return;
      es.close();
      self._closed(1006, "");
    };
  };

  proto._handle = function (text) {
    var m;
    try {
      m = JSON.parse(text);
    } catch (e) {
      m = { type: "text", data: text };
    }
    if (m.type === "message" && m.room) {
      this.positions[m.room] = m.seq;
      if (this.options.onMessage) this.options.onMessage(m);
    } else if (m.type === "joined") {
      this.attempt = 0; // a working connection resets the back-off
      if (this.positions[m.room] === undefined || m.seq > this.positions[m.room]) this.positions[m.room] = m.seq;
    } else if (m.type === "reconnect") {
      this.nextDelay = m.delay_ms;
    }
    if (this.options.onEvent) this.options.onEvent(m);
  };

  proto._closed = function (code, reason) {
    var was = this.open;
    this.open = false;
    this.ws = null;
    this.es = null;
    var again = !this.closed && this.options.shouldReconnect(code);
    if (this.options.onClose) this.options.onClose({ code: code, reason: reason, willReconnect: again, wasOpen: was });
    if (!again) return;
    var delay = this.nextDelay;
    this.nextDelay = null;
    if (delay === null) {
      var ceiling = Math.min(this.options.maxBackoff, this.options.minBackoff * Math.pow(2, this.attempt));
      delay = Math.random() * ceiling; // full jitter
      this.attempt++;
    }
    var self = this;
    this.retryTimer = setTimeout(function () {
      self._connect();
    }, delay);
  };

  // The heartbeat: browsers answer the server's pings but tell scripts
  // nothing, so a connection whose peer vanished looks open until TCP gives
  // up. A ping operation every pingInterval, and a reconnect when nothing
  // at all arrives within pongTimeout of it, find it sooner.
  proto._startHeartbeat = function () {
    var self = this;
    this._stopHeartbeat();
    this.pingTimer = setInterval(function () {
      if (!self.ws || self.ws.readyState !== 1) return;
      self.ws.send('{"op":"ping"}');
      clearTimeout(self.pongTimer);
      self.pongTimer = setTimeout(function () {
        // A dead connection may take long to finish closing: give it up now.
        var dead = self.ws;
        if (!dead) return;
        self.ws = null;
        dead.onclose = null;
        dead.close(4000, "heartbeat timeout");
        self._stopHeartbeat();
        self._closed(4000, "heartbeat timeout");
      }, self.options.pongTimeout);
    }, this.options.pingInterval);
  };

  proto._seen = function () {
    clearTimeout(this.pongTimer);
  };

  proto._stopHeartbeat = function () {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  };

  global.TroupeRealtime = TroupeRealtime;
})(typeof window !== "undefined" ? window : globalThis);
