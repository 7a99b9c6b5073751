// Svidok: every htmx request carries the session's CSRF token; the language menu submits itself.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (meta && meta.content) { e.detail.headers["X-CSRF-Token"] = meta.content; }
  });
  document.querySelectorAll("select.autosubmit").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
})();
