// Theme toggle: remembers the admin's choice of light or dark, otherwise the
// system setting applies. Loaded with defer on every admin page.
(function () {
  "use strict";
  var key = "smiledash-theme";
  var saved = null;
  try { saved = localStorage.getItem(key); } catch (e) { /* private mode */ }
  if (saved === "light" || saved === "dark") {
    document.documentElement.setAttribute("data-theme", saved);
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-theme-toggle]");
    if (!button) return;
    var current = document.documentElement.getAttribute("data-theme") ||
      (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    var next = current === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem(key, next); } catch (e) { /* private mode */ }
  });
})();
