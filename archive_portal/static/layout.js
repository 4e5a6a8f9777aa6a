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

// On a phone the search conditions and the facets fold under a summary (open when a condition is set),
// so the results start near the top; without script, or on a wide screen, everything stays open.
(function () {
  function fold(element, label, open) {
    if (!element || element.closest("details.phone-fold")) { return; }
    var details = document.createElement("details");
    details.className = "phone-fold";
    details.open = open;
    var summary = document.createElement("summary");
    summary.textContent = label;
    element.parentNode.insertBefore(details, element);
    details.appendChild(summary);
    details.appendChild(element);
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.matchMedia("(max-width: 760px)").matches) { return; }
    var filters = document.querySelector("form.search .filters");
    if (filters) {
      var set = [].some.call(filters.querySelectorAll("select, input[type=text], input[type=date], input[type=checkbox]"),
        function (f) { return f.type === "checkbox" ? f.checked : (f.value && f.selectedIndex !== 0); });
      fold(filters, "Điều kiện tìm kiếm (đơn vị, loại, ngày, số)", set);
    }
    fold(document.querySelector(".results-layout > .facets"), "Lọc kết quả theo nhóm", false);
  });
})();
