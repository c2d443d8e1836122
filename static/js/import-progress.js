// The import page while a file is being checked: poll its status, move the bar, and
// reload the page once the check has finished.
(function () {
  var panel = document.getElementById("progress-panel");
  if (!panel) return;
  function poll() {
    fetch(panel.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.status !== "processing") { window.location.reload(); return; }
      var bar = document.getElementById("progress");
      bar.max = s.total || 1; bar.value = s.progress;
      document.getElementById("progress-text").textContent = s.progress + "/" + (s.total || "?") + " 行";
      setTimeout(poll, 700);
    }).catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
