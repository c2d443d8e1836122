// The bulletin archive while a bulletin is being produced: poll the run, show its step
// and progress, open the archive when it is published or show why it failed.
(function () {
  var panel = document.getElementById("run-panel");
  if (!panel) return;
  function poll() {
    fetch(panel.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("run-step").textContent = s.step || s.status_label;
      document.getElementById("run-progress").value = s.progress;
      document.getElementById("run-percent").textContent = s.progress + "%";
      if (!s.done) { setTimeout(poll, 700); return; }
      if (s.status === "published") { window.location = window.location.pathname; return; }
      var e = document.getElementById("run-error");
      e.hidden = false; e.textContent = s.status_label + "：" + s.error;
    });
  }
  poll();
})();
