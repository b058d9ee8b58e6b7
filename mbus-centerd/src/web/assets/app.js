// Progressive enhancement: every page works without this script. It keeps the footer's
// logger state current and marks the overview when new readings arrived, from the server's
// live updates (/api/v1/updates, server-sent events).
"use strict";
(function () {
  var state = document.getElementById("state");
  if (!state || !window.EventSource) { return; }
  var german = state.getAttribute("data-lang") === "de";
  var names = { idle: "Leerlauf", scan: "Suchlauf", read: "Auslesung", rs: "Pegelwandler", err: "Fehler" };
  var source = new EventSource("/api/v1/updates");
  source.addEventListener("state", function (e) {
    var s = JSON.parse(e.data).state;
    state.setAttribute("data-state", s);
    state.textContent = german && names[s] ? s + " (" + names[s] + ")" : s;
  });
  source.addEventListener("readings", function () {
    var news = document.getElementById("news");
    if (news) { news.hidden = false; }
  });
})();
