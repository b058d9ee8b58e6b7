// Progressive enhancement: every page works without this script. It keeps the footer's
// logger state current and marks the overview when new readings arrived, from the server's
// live updates (/api/v1/updates, server-sent events).
"use strict";
(function () {
  var state = document.getElementById("logger-state");
  if (!state || !window.EventSource) { return; }
  var german = state.getAttribute("data-lang") === "de";
  var names = { idle: "Leerlauf", scan: "Suchlauf", read: "Auslesung", rs: "Pegelwandler", err: "Fehler" };
  var source = new EventSource("/api/v1/updates");
  source.addEventListener("state", function (e) {
    var s = JSON.parse(e.data).state;
    state.setAttribute("data-state", s);
    state.textContent = s;
    var name = document.getElementById("logger-state-name");
    if (german && name && names[s]) { name.textContent = names[s]; }
  });
  source.addEventListener("readings", function () {
    var news = document.getElementById("news");
    if (news) { news.hidden = false; }
  });
})();
// Meter configuration: the search's progress, live. Without this script the page shows the
// progress as of its loading (and a refresh link).
(function () {
  var bar = document.getElementById("search-progress");
  var status = document.getElementById("search-status");
  if (!bar || !status || !window.EventSource) { return; }
  var start = document.getElementById("search-start");
  var cancel = document.getElementById("search-cancel");
  // The page was rendered while a search ran (its start button is disabled then).
  var rendered_running = !!(start && start.disabled);
  var source = new EventSource("/api/v1/updates");
  function finished() {
    // The list of added meters and the final counts come from the server.
    source.close();
    window.location.replace("/meters/config");
  }
  // A search that ended between the page's rendering and the stream's opening sends no more
  // updates: ask once, when the stream is open, whether it still runs.
  source.addEventListener("open", function () {
    if (!rendered_running || !window.fetch) { return; }
    fetch("/api/v1/scan", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && !s.running) { finished(); } })
      .catch(function () {});
  });
  source.addEventListener("scan", function (e) {
    var s = JSON.parse(e.data);
    var percent = Math.floor((s.fraction || 0) * 100);
    bar.value = percent;
    bar.textContent = percent + " %";
    if (s.running) {
      status.textContent = status.getAttribute("data-text-running") + " (" + s.baud + " Baud): " +
        percent + " % – " + status.getAttribute("data-text-found") + ": " + s.found;
      if (start) { start.disabled = true; }
      if (cancel) { cancel.disabled = false; }
    } else {
      finished();
    }
  });
})();
// Template import: a chosen file is read into the text field that the form posts.
(function () {
  var area = document.getElementById("templates-file");
  if (!area || !window.FileReader) { return; }
  var picker = document.createElement("input");
  picker.type = "file";
  picker.accept = "application/json,.json";
  picker.id = "templates-file-picker";
  picker.setAttribute("aria-label", area.labels && area.labels[0] ? area.labels[0].textContent : "JSON");
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { area.value = reader.result; };
    reader.readAsText(file);
  });
  area.parentNode.insertBefore(picker, area);
})();
// Inputs and outputs (logger tabs temperature, s0, relays, level-converter): every element
// with data-io (a path into GET /api/v1/io, e.g. "s0.0.pulses") is refreshed every two
// seconds. Numbers keep data-digits decimals, booleans show data-on/data-off, empty values
// data-none.
(function () {
  var cells = document.querySelectorAll("[data-io]");
  if (!cells.length || !window.fetch) { return; }
  function at(data, path) {
    return path.split(".").reduce(function (v, key) {
      return v === null || v === undefined ? v : v[key];
    }, data);
  }
  function show(data) {
    Array.prototype.forEach.call(cells, function (cell) {
      var v = at(data, cell.getAttribute("data-io"));
      var digits = cell.getAttribute("data-digits");
      var text;
      if (typeof v === "boolean") {
        text = cell.getAttribute(v ? "data-on" : "data-off") || String(v);
      } else if (typeof v === "number") {
        text = digits === null ? String(v) : v.toFixed(Number(digits));
      } else if (v === null || v === undefined) {
        text = cell.getAttribute("data-none") || "\u2013";
      } else {
        text = String(v);
      }
      if (cell.textContent !== text) { cell.textContent = text; }
    });
  }
  function poll() {
    fetch("/api/v1/io", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(poll, 2000);
})();
