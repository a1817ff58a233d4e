// The web UI's script of every page (verify.js runs the verify page). It never
// builds HTML from data: rows are cloned from a <template> and every value is set
// with textContent.
"use strict";

(function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });

  var inbox = document.getElementById("inbox");
  if (!inbox || inbox.dataset.live !== "on" || !window.EventSource) {
    return;
  }
  var rows = document.getElementById("rows");
  var template = document.getElementById("row-template");
  var empty = document.getElementById("empty");
  var showing = document.getElementById("showing");
  var liveStatus = document.getElementById("live-status");
  var namespaceFilter = document.getElementById("namespace-filter");
  var messageBase = inbox.dataset.messageBase;
  var lostTimer = null;
  var POLL_MILLISECONDS = 3000;

  function setStatus(state, label) {
    if (liveStatus) {
      liveStatus.dataset.state = state;
      liveStatus.textContent = label;
    }
  }

  function knownIds() {
    var ids = [];
    rows.querySelectorAll("tr[data-id]").forEach(function (row) {
      ids.push(Number(row.dataset.id));
    });
    return ids;
  }

  function buildRow(message, fresh) {
    var row = template.content.firstElementChild.cloneNode(true);
    row.dataset.id = String(message.id);
    row.className = message.status === "accepted" ? "status-accepted" : "status-rejected";
    if (fresh) {
      row.classList.add("fresh");
    }
    row.querySelectorAll("[data-field]").forEach(function (cell) {
      var value = message[cell.dataset.field];
      cell.textContent = value === null || value === undefined ? "" : String(value);
    });
    row.querySelectorAll("[data-outcome-field]").forEach(function (cell) {
      cell.dataset.outcome = String(message[cell.dataset.outcomeField] || "");
    });
    row.querySelectorAll("[data-title-field]").forEach(function (cell) {
      cell.title = String(message[cell.dataset.titleField] || "");
    });
    row.querySelectorAll("a[data-link]").forEach(function (link) {
      link.href = messageBase + encodeURIComponent(String(message.id));
    });
    return row;
  }

  function updateNamespaces(names) {
    if (!namespaceFilter) {
      return;
    }
    var present = new Set();
    Array.prototype.forEach.call(namespaceFilter.options, function (option) {
      present.add(option.value);
    });
    names.forEach(function (name) {
      if (!present.has(name)) {
        namespaceFilter.appendChild(new Option(name, name));
      }
    });
  }

  function render(data) {
    var before = knownIds();
    var newest = before.length ? Math.max.apply(null, before) : 0;
    var fragment = document.createDocumentFragment();
    data.messages.forEach(function (message) {
      fragment.appendChild(buildRow(message, message.id > newest));
    });
    rows.replaceChildren(fragment);
    document.querySelectorAll("[data-count]").forEach(function (count) {
      count.textContent = String(data.counts[count.dataset.count]);
    });
    empty.hidden = data.messages.length > 0;
    showing.textContent = data.showing;
    updateNamespaces(data.namespaces);
  }

  var source = new EventSource(inbox.dataset.events);
  source.addEventListener("open", function () {
    clearTimeout(lostTimer);
    setStatus("live", "live");
  });
  source.addEventListener("inbox", function (event) {
    render(JSON.parse(event.data));
  });
  function poll() {
    // The server refused the stream (too many open): ask for the page instead.
    var url = inbox.dataset.events + (inbox.dataset.events.indexOf("?") < 0 ? "?" : "&") + "once=1";
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        render(data);
        setStatus("live", "polling");
      })
      .catch(function () {
        setStatus("offline", "offline: reload the page");
      });
  }

  source.addEventListener("error", function () {
    // Each stream ends after a few seconds on purpose and the browser
    // reconnects; only say so when that takes long or is given up.
    clearTimeout(lostTimer);
    if (source.readyState === EventSource.CLOSED) {
      poll();
      setInterval(poll, POLL_MILLISECONDS);
      return;
    }
    lostTimer = setTimeout(function () {
      setStatus("connecting", "reconnecting…");
    }, 3000);
  });
})();
