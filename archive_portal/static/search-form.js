/* Search form helpers (the form works without them). No inline script: the CSP forbids it.
   - the old-unit list filters as one types (name or code, with or without diacritics);
   - each date field gets a calendar beside it that writes dd/mm/yyyy into the text field. */
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  function unitFilter() {
    var input = document.getElementById("unit-filter");
    var select = document.getElementById("unit");
    if (!input || !select) { return; }
    input.hidden = false;
    input.addEventListener("input", function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var shown = 0;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
          var hay = option.getAttribute("data-search") || "";
          var match = words.every(function (w) { return hay.indexOf(w) >= 0; });
          option.hidden = !match;
          option.disabled = !match && !option.selected;
          if (match) { shown += 1; if (!first) { first = option; } }
        });
        group.hidden = shown === 0;
      });
      if (words.length && first && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
        first.selected = true;
      }
    });
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function datePickers() {
    Array.prototype.forEach.call(document.querySelectorAll("input.date-text"), function (text) {
      var picker = document.createElement("input");
      picker.type = "date";
      picker.className = "date-picker";
      picker.setAttribute("aria-label", "Chọn ngày trên lịch cho ô " + (text.name === "from" ? "Từ ngày" : "Đến ngày"));
      picker.tabIndex = 0;
      var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.value.trim());
      if (m) { picker.value = m[3] + "-" + pad(+m[2]) + "-" + pad(+m[1]); }
      picker.addEventListener("change", function () {
        var p = /^(\d{4})-(\d{2})-(\d{2})$/.exec(picker.value);
        if (p) { text.value = p[3] + "/" + p[2] + "/" + p[1]; }
      });
      text.insertAdjacentElement("afterend", picker);
    });
  }
  function init() { unitFilter(); datePickers(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
