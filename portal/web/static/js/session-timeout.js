// Warns a signed-in person before their session ends for inactivity, and lets them keep it
// (WCAG 2.2.1 Timing Adjustable). Loaded from /static because the CSP forbids inline script;
// without JavaScript the page works as before and the server still ends idle sessions.
(function () {
  "use strict";
  var box = document.getElementById("session-timeout");
  if (!box) { return; }
  var idle = Number(box.getAttribute("data-idle-seconds")) * 1000;
  var warnBefore = Number(box.getAttribute("data-warn-seconds")) * 1000;
  var stay = box.querySelector("[data-action=stay]");
  var expiredText = box.querySelector("[data-when=expired]");
  var warningText = box.querySelector("[data-when=warning]");
  var warnTimer = null;
  var endTimer = null;

  function show(expired) {
    warningText.hidden = expired;
    expiredText.hidden = !expired;
    stay.hidden = expired;
    box.hidden = false;
    (expired ? expiredText : stay).focus();
  }

  function start() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    box.hidden = true;
    warnTimer = window.setTimeout(function () { show(false); }, Math.max(idle - warnBefore, 0));
    endTimer = window.setTimeout(function () { show(true); }, idle);
  }

  stay.addEventListener("click", function () {
    fetch(box.getAttribute("data-keepalive"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.ok) { start(); } else { show(true); }
      })
      .catch(function () { show(true); });
  });
  start();
}());
