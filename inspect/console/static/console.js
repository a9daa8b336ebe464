// The console's live updates: one EventSource on /console/live, whose
// "update" events carry the figures; every element with data-live="a.b"
// shows field a.b, actor rows update their cells, and the table of
// cycles waiting now is rebuilt. Text is set with textContent only.
// Without JavaScript every page is complete as served.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-live-url");
  var status = document.getElementById("live-status");
  if (!url || !window.EventSource) { return; }

  function field(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function dur(ns) {
    if (!ns) { return "–"; }
    if (ns < 1e3) { return ns + "ns"; }
    if (ns < 1e6) { return (ns / 1e3).toFixed(1) + "µs"; }
    if (ns < 1e9) { return (ns / 1e6).toFixed(1) + "ms"; }
    return (ns / 1e9).toFixed(2) + "s";
  }
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function cycles(list) {
    var tbody = document.getElementById("cycles-now");
    if (!tbody) { return; }
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    if (!list || list.length === 0) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      cell(empty, "none").colSpan = 5;
      tbody.appendChild(empty);
      return;
    }
    list.forEach(function (c) {
      var tr = document.createElement("tr");
      cell(tr, String(c.id));
      cell(tr, c.actors).className = "cycle";
      cell(tr, c.hops.map(function (h) {
        return h.from + " waits on " + h.to + " for " + h.message + " (" + dur(h.waited_ns) + ")";
      }).join("; "));
      cell(tr, c.detected);
      cell(tr, "waiting");
      tbody.appendChild(tr);
    });
  }
  function actors(rows) {
    (rows || []).forEach(function (a) {
      var tr = document.querySelector('tr[data-actor="' + a.id + '"]');
      if (!tr) { return; }
      var f = a.figures || {};
      var values = {
        state: a.state + (a.waiting_on ? " on " + a.waiting_on : ""),
        mailbox: a.mailbox + " / " + a.capacity,
        messages: String(Math.round(f.messages || 0)),
        rate: f.rate ? f.rate.toFixed(1) : "–",
        p99: dur(f.p99_ns),
        restarts: String(f.restarts || 0),
        dead_letters: String(f.dead_letters || 0)
      };
      Object.keys(values).forEach(function (k) {
        var td = tr.querySelector('[data-f="' + k + '"]');
        if (td) { td.textContent = values[k]; }
      });
    });
  }

  var source = new EventSource(url);
  source.addEventListener("update", function (ev) {
    var u = JSON.parse(ev.data);
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var v = field(u, el.getAttribute("data-live"));
      if (v !== undefined && v !== null) { el.textContent = String(v); }
    });
    cycles(u.cycles);
    actors(u.actors);
    if (status) { status.textContent = "live · " + new Date(u.time).toLocaleTimeString(); }
  });
  source.onerror = function () {
    if (status) { status.textContent = "live updates paused (reload to refresh)"; }
  };
}());
