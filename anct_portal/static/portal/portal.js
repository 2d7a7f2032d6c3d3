// Portal behaviours. No inline script anywhere: pages load this file (CSP-friendly).
(function () {
  "use strict";

  // A failed form: move the focus to its error summary so that it is read first.
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // One submission per form: a second click is ignored in the browser. The server refuses the
  // duplicate anyway (one-time form token); this only spares a useless round trip.
  function guardDoubleSubmit() {
    document.querySelectorAll("form[data-single-submit]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitting === "true") {
          event.preventDefault();
          return;
        }
        form.dataset.submitting = "true";
        form.setAttribute("aria-busy", "true");
        window.setTimeout(function () {
          // Let the user try again if the page did not change (network error…).
          form.dataset.submitting = "false";
          form.removeAttribute("aria-busy");
        }, 15000);
      });
    });
  }

  function start() {
    focusErrorSummary();
    guardDoubleSubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
