// A panel following work done in the background (an import being checked, a bulletin being
// produced). The panel says where to ask (data-status-url) and which status means still at
// work (data-running); inside it, data-value and data-max bind a <progress> to fields of the
// answer, and data-text fills an element from a pattern: "{progress}/{total|?} 行" puts in
// the field progress, then total or, when that is empty, "?". When the work has finished, an
// element with data-error shows its pattern if the answer carries an error; otherwise the
// page is opened again (data-done-url, or this address) to show the result.
// (A file, not inline: the Content-Security-Policy allows no inline script.)
(function () {
  function fill(pattern, s) {
    return pattern.replace(/\{([^}]*)\}/g, function (_, names) {
      var choices = names.split("|"), last = choices.pop();
      for (var i = 0; i < choices.length; i++) { if (s[choices[i]]) return s[choices[i]]; }
      return last in s ? s[last] : last;
    });
  }
  function follow(panel) {
    function show(s) {
      panel.querySelectorAll("[data-max]").forEach(function (e) { e.max = s[e.dataset.max] || 1; });
      panel.querySelectorAll("[data-value]").forEach(function (e) { e.value = s[e.dataset.value]; });
      panel.querySelectorAll("[data-text]").forEach(function (e) { e.textContent = fill(e.dataset.text, s); });
    }
    function finished(s) {
      var error = panel.querySelector("[data-error]");
      if (error && s.error) {
        error.hidden = false; error.textContent = fill(error.dataset.error, s);
        return;
      }
      window.location = panel.dataset.doneUrl || window.location.href;
    }
    function poll() {
      fetch(panel.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        if (s.status !== panel.dataset.running) { finished(s); return; }
        show(s);
        setTimeout(poll, 700);
      }).catch(function () { setTimeout(poll, 2000); });
    }
    poll();
  }
  document.querySelectorAll("[data-status-url]").forEach(follow);
})();
