/* Document viewer: zoom of the page image (the page works without it). No inline script: the CSP forbids it. */
(function () {
  "use strict";
  var LEVELS = 4; // zoom-0 (fit) .. zoom-3
  function init() {
    var figure = document.getElementById("page-scan");
    if (!figure) { return; }
    var tools = figure.querySelector(".zoom-tools");
    var wrap = figure.querySelector(".scan-wrap");
    var frame = figure.querySelector(".scan-frame");
    var level = 0;
    function apply() {
      for (var i = 0; i < LEVELS; i++) { wrap.classList.remove("zoom-" + i); }
      wrap.classList.add("zoom-" + level);
      if (level > 0) {
        frame.setAttribute("tabindex", "0");  // a zoomed page scrolls: reachable by keyboard
        frame.setAttribute("aria-label", "Ảnh trang phóng to, dùng phím mũi tên để di chuyển");
        var box = wrap.querySelector(".hit-box");
        if (box && box.scrollIntoView) { box.scrollIntoView({block: "center", inline: "center"}); }
      } else {
        frame.removeAttribute("tabindex");
        frame.removeAttribute("aria-label");
      }
      tools.setAttribute("data-level", String(level));
    }
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button) { return; }
      var step = parseInt(button.getAttribute("data-zoom"), 10);
      level = step === 0 ? 0 : Math.max(0, Math.min(LEVELS - 1, level + step));
      apply();
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
