// The verify page: a client of /api/verify/runs. The form is posted as JSON; a
// run's page polls its run and adds one line per finished check, then reloads
// once the run is over to show the report. Values are set with textContent only.
"use strict";

(function () {
  var POLL_MILLISECONDS = 500;

  function problemText(response, body) {
    if (body && typeof body.detail === "string") {
      return body.detail;
    }
    return "The server answered " + response.status + ".";
  }

  // The API's request from the form, as the server builds it without this script:
  // empty fields left out, only and skip split at commas and spaces.
  function runRequest(form) {
    var data = {};
    ["url", "to", "longTo", "login"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) {
        data[name] = value;
      }
    });
    ["password", "cacert"].forEach(function (name) {
      if (form.elements[name].value) {
        data[name] = form.elements[name].value;
      }
    });
    ["only", "skip"].forEach(function (name) {
      var items = form.elements[name].value.split(/[\s,]+/).filter(Boolean);
      if (items.length) {
        data[name] = items;
      }
    });
    var sends = form.elements.maxSends.value.trim();
    if (sends) {
      data.maxSends = /^[0-9]{1,9}$/.test(sends) ? Number(sends) : sends;
    }
    if (form.elements.allowHttp && form.elements.allowHttp.checked) {
      data.allowHttp = true;
    }
    return data;
  }

  function startForm(form) {
    var error = document.getElementById("verify-error");
    var button = document.getElementById("verify-button");
    var pending = document.getElementById("verify-pending");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      pending.hidden = false;
      fetch("/api/verify/runs", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(runRequest(form))
      })
        .then(function (response) {
          return response.json().catch(function () {
            return null;
          }).then(function (body) {
            if (response.status === 202 && body && body.links) {
              // The password is not kept in the page a moment longer than needed.
              form.elements.password.value = "";
              window.location.assign(body.links.page);
              return;
            }
            error.textContent = problemText(response, body);
            error.hidden = false;
            button.disabled = false;
            pending.hidden = true;
          });
        })
        .catch(function () {
          error.textContent = "The server could not be reached; try again.";
          error.hidden = false;
          button.disabled = false;
          pending.hidden = true;
        });
    });
  }

  function followRun(section) {
    var lines = document.getElementById("check-lines");
    var template = document.getElementById("check-line-template");
    var progress = document.getElementById("run-progress");
    var liveStatus = document.getElementById("live-status");
    var seen = Number(section.dataset.done) || 0;

    function setStatus(state, label) {
      if (liveStatus) {
        liveStatus.dataset.state = state;
        liveStatus.textContent = label;
      }
    }

    function addLine(check) {
      var line = template.content.firstElementChild.cloneNode(true);
      line.dataset.check = check.id;
      line.dataset.status = check.status;
      line.classList.add("status-" + check.status, "level-" + check.level);
      line.querySelectorAll("[data-field]").forEach(function (field) {
        var name = field.dataset.field;
        var value = name === "statusLabel" ? String(check.status).toUpperCase() : check[name];
        field.textContent = value === null || value === undefined ? "" : String(value);
      });
      line.querySelector("[data-fix]").hidden = check.status !== "fail";
      lines.appendChild(line);
    }

    function poll() {
      fetch(section.dataset.api + "?from=" + seen, {
        credentials: "same-origin",
        headers: {"Accept": "application/json"}
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (run) {
          run.checks.forEach(addLine);
          seen = run.checksFrom + run.checks.length;
          progress.textContent = String(seen);
          if (run.status !== "running") {
            window.location.reload();
            return;
          }
          setStatus("live", "live");
          setTimeout(poll, POLL_MILLISECONDS);
        })
        .catch(function () {
          setStatus("offline", "connection lost: retrying");
          setTimeout(poll, POLL_MILLISECONDS * 4);
        });
    }

    poll();
  }

  var form = document.getElementById("verify-form");
  if (form) {
    startForm(form);
  }
  var section = document.getElementById("verify-run");
  if (section && section.dataset.status === "running") {
    followRun(section);
  }
})();
