// The header's menu on a narrow screen: the navigation and the user fold behind the 菜单
// button, which opens and closes them. Without this script they simply stand open.
// (Loaded right after the header, before the page below it is drawn, so nothing jumps; a
// file, not inline: the Content-Security-Policy allows no inline script.)
(function () {
  var button = document.querySelector("header.top .menu-toggle");
  if (!button) return;
  var header = button.closest("header");
  header.classList.add("foldable");
  button.addEventListener("click", function () {
    var open = header.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
