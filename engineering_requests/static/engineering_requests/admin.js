/* Back office behaviours, as a static file: the Content-Security-Policy allows no inline
   script nor event-handler attribute. */
"use strict";
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-navigate-on-change]");
  if (select && select.value) {
    window.location.href = select.value;
  }
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print-page]")) {
    event.preventDefault();
    window.print();
  }
});
