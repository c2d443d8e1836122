// A <select data-autosubmit> sends its form as soon as another option is chosen.
// (Served as a file: the Content-Security-Policy allows no inline script or handler.)
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
