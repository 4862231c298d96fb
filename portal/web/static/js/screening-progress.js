// Follows a running screening on its page: polls the run's JSON and updates the status, the bar
// and the count, then reloads the page once the run has ended (to show the results). Loaded from
// /static because the CSP forbids inline script; without JavaScript a <noscript> refresh does it.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box || !box.getAttribute("data-poll")) { return; }
  var url = box.getAttribute("data-poll");
  var every = Number(box.getAttribute("data-poll-seconds") || "2") * 1000;
  var bar = box.querySelector("progress");
  var polls = 0;
  var MAX_POLLS = 3600; // two hours at the default pace; the page can be reloaded after that

  function show(run) {
    box.querySelector("[data-field=status_label]").textContent = run.status_label;
    box.querySelector("[data-field=status_label]").className = "run-status run-" + run.status;
    box.querySelector("[data-field=text]").textContent = run.text;
    if (run.percent === null) { bar.removeAttribute("value"); } else { bar.value = run.percent; }
  }

  function poll() {
    polls += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) { return; }
        show(run);
        if (run.finished) { window.location.reload(); return; }
        if (polls < MAX_POLLS) { window.setTimeout(poll, every); }
      })
      .catch(function () { if (polls < MAX_POLLS) { window.setTimeout(poll, every * 2); } });
  }

  window.setTimeout(poll, every);
}());
