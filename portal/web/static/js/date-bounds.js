// Keeps a date input's `min` / `max` in step with the date field that bounds it (a form's
// `not_before: {field: start_on}`), so the picker offers no end before the start being typed.
// Loaded from /static because the CSP forbids inline script; without JavaScript the server
// drew the bounds from the saved answers, and the server's check is the authority either way.
(function () {
  "use strict";
  function follow(input, attribute, from) {
    var source = document.getElementById(input.getAttribute(from));
    if (!source) { return; }
    function update() {
      // A date input's value is "" or a whole YYYY-MM-DD day; an empty start leaves no bound.
      if (source.value) { input.setAttribute(attribute, source.value); } else { input.removeAttribute(attribute); }
    }
    source.addEventListener("input", update);
    source.addEventListener("change", update);
  }
  document.querySelectorAll("input[type=date][data-min-from]").forEach(function (input) {
    follow(input, "min", "data-min-from");
  });
  document.querySelectorAll("input[type=date][data-max-from]").forEach(function (input) {
    follow(input, "max", "data-max-from");
  });
}());
