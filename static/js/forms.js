// Forms that ask before they are sent (data-confirm="question") and forms sent once
// (data-once: the submit buttons are disabled as it goes, so a double click posts it once;
// the server refuses a second post of the same form anyway).
// (Served as a file: the Content-Security-Policy allows no inline script or handler.)
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
});
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function () {
    // After this event, so the pressed button's own name and value are still sent.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
});
