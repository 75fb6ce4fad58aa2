// Small conveniences only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Apply event filters as soon as a menu changes.
  var form = document.getElementById("event-filters");
  if (form) {
    form.querySelectorAll("select").forEach(function (el) {
      el.addEventListener("change", function () { form.submit(); });
    });
  }
  // Select a hash with one click, for copying.
  document.querySelectorAll("#sha256, code.sha").forEach(function (el) {
    el.addEventListener("click", function () {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    });
  });
});
