// The closure form shows only the fields of the chosen 组建方式 (data-methods on each field's
// box); a hidden field is disabled, so what another method asks for is not sent.
(function () {
  var form = document.getElementById("closure-form");
  if (!form) { return; }
  var method = form.querySelector("select[name=method]");
  function show() {
    form.querySelectorAll("[data-methods]").forEach(function (box) {
      var shown = box.dataset.methods.split(" ").indexOf(method.value) >= 0;
      box.hidden = !shown;
      box.querySelectorAll("input, select, textarea").forEach(function (field) {
        field.disabled = !shown;
      });
    });
  }
  method.addEventListener("change", show);
  show();
})();
