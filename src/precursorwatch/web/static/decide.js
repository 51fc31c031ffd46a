// Keyboard shortcuts of the results page's decisions (screening.html, _decision.html): on a
// flagged line (the line itself or one of its buttons focused), c cleared, i inspect,
// d detained, r referred press that line's button, sending the comment typed in its box;
// j and k move to the next and previous flagged line. Keys typed into a text box stay text.
"use strict";
(function () {
  var decisions = { c: "cleared", i: "inspect", d: "detained", r: "referred" };
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT" || el.isContentEditable;
  }
  function move(from, step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-decide]"));
    if (!rows.length) { return; }
    var at = rows.indexOf(from);
    var next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : at + step;
    if (next >= 0 && next < rows.length) { rows[next].focus(); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    var key = (e.key || "").toLowerCase();
    var row = e.target && e.target.closest ? e.target.closest("tr[data-decide]") : null;
    if (key === "j" || key === "k") {
      e.preventDefault();
      move(row, key === "j" ? 1 : -1);
      return;
    }
    if (!row || !decisions[key]) { return; }
    var button = row.querySelector('button[name="decision"][value="' + decisions[key] + '"]');
    if (button) {
      e.preventDefault();
      button.click();
    }
  });
})();
