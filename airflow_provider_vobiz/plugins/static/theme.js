// Follow the Airflow UI's theme when embedded (same origin: the UI sets class="dark"/"light" on <html>);
// on its own, the page follows prefers-color-scheme through CSS.
(function () {
  "use strict";
  var root = document.documentElement;
  function parentTheme() {
    try {
      if (window.parent === window) return null;
      var cls = window.parent.document.documentElement.classList;
      if (cls.contains("dark")) return "dark";
      if (cls.contains("light")) return "light";
    } catch (e) {
      /* not same origin: keep the OS preference */
    }
    return null;
  }
  function apply() {
    var theme = parentTheme();
    if (theme) root.setAttribute("data-theme", theme);
    else root.removeAttribute("data-theme");
  }
  apply();
  try {
    if (window.parent !== window) {
      new MutationObserver(apply).observe(window.parent.document.documentElement, {
        attributes: true,
        attributeFilter: ["class", "style"],
      });
    }
  } catch (e) {
    /* ignore */
  }
})();
