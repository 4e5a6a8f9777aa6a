// The ingest progress bar: polls a small JSON endpoint while files are still being read.
document.addEventListener("DOMContentLoaded", function () {
  var bar = document.getElementById("ingest-progress");
  var text = document.getElementById("ingest-progress-text");
  if (!bar || !bar.dataset.url) { return; }
  function poll() {
    fetch(bar.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        bar.value = p.percent;
        bar.textContent = p.percent + "%";
        text.textContent = p.files_done + "/" + p.files_total + " tệp đã đọc (" + p.percent + "%)" +
          (p.running_packages ? " · " + p.running_packages + " gói đang nhập" : "") + ".";
        if (p.files_pending > 0 || p.running_packages > 0) { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  poll();
});
