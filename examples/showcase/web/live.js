// The live page: the notes feed and a chat room, over troupe-realtime.js.
// Text goes in with textContent only, never as HTML.
(function () {
  "use strict";

  function status(id, text) {
    var el = document.getElementById(id);
    el.textContent = text;
    el.className = text === "live" ? "status live" : "status";
  }

  function item(list, parts, className) {
    var li = document.createElement("li");
    if (className) li.className = className;
    parts.forEach(function (p) {
      var span = document.createElement("span");
      span.className = p[0];
      span.textContent = p[1];
      li.appendChild(span);
    });
    list.appendChild(li);
    return li;
  }

  var feed = document.getElementById("feed");
  new TroupeRealtime("/api/v2/notes/live", {
    onEvent: function (m) {
      if (m.type === "joined") status("feed-status", "live");
    },
    onClose: function () {
      status("feed-status", "reconnecting");
    },
    onMessage: function (m) {
      var e = m.data;
      if (e.event === "created") {
        item(feed, [["event", "created "], ["title", e.note.title]]).dataset.id = e.id;
      } else if (e.event === "deleted") {
        item(feed, [["event", "deleted "], ["title", "note " + e.id]], "deleted");
      }
    },
  });

  var chat = document.getElementById("chat");
  var room = new TroupeRealtime("/api/v2/rooms/lobby", {
    onEvent: function (m) {
      if (m.type === "joined") status("chat-status", "live");
      if (m.type === "error") item(chat, [["error", m.detail]]);
    },
    onClose: function () {
      status("chat-status", "reconnecting");
    },
    onMessage: function (m) {
      var when = new Date(m.time).toLocaleTimeString();
      item(chat, [["who", m.sender || "anonymous"], ["when", when], ["text", m.data.text]]);
    },
  });

  document.getElementById("chat-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("chat-text");
    if (room.send({ text: input.value })) input.value = "";
  });
})();
