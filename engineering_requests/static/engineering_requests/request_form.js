// The request form: the programme and contract lists only show with their form of
// intervention. Without this script both stay visible and the server ignores the one that
// does not apply.
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("request-form");
    if (!form) {
      return;
    }
    var radios = form.querySelectorAll('input[name="intervention_form"]');
    var blocks = form.querySelectorAll("[data-show-for]");

    function update() {
      var chosen = form.querySelector('input[name="intervention_form"]:checked');
      var value = chosen ? chosen.value : "";
      blocks.forEach(function (block) {
        var shown = block.dataset.showFor === value;
        block.hidden = !shown;
        var element = block.closest(".fr-fieldset__element");
        if (element) {
          element.hidden = !shown;
        }
      });
    }

    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
