// The progress of a manifest being checked (screening_job.html): asks the server every
// second how far it has got, moves the bar, and reloads the page when the check has ended
// (the page then shows the results, or why there are none). No other script runs here.
"use strict";
(function () {
  var box = document.getElementById("job");
  if (!box || box.dataset.status !== "running") { return; }
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  var url = box.dataset.statusUrl;
  var fmt = function (n) { return Number(n).toLocaleString("en"); };
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s || s.status !== "running") { window.location.reload(); return; }
        var p = s.progress;
        if (p.total) {
          bar.max = p.total;
          bar.value = p.lines_judged;
          count.textContent = fmt(p.lines_judged) + " lines checked of " + fmt(p.total);
        } else {
          bar.removeAttribute("value");
          count.textContent = fmt(p.lines_judged) + " lines checked";
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
