// Print views: the button opens the browser's print dialog (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.print-now").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
