// A table wider than a phone scrolls in its own box; that box must be reachable by keyboard (tabindex).
(function () {
  function mark() {
    document.querySelectorAll("main table, .table-scroll").forEach(function (box) {
      var style = window.getComputedStyle(box);
      var scrolls = (style.overflowX === "auto" || style.overflowX === "scroll") && box.scrollWidth > box.clientWidth;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        if (!box.getAttribute("aria-label")) { box.setAttribute("aria-label", "Bảng (cuộn ngang để xem hết)"); }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
