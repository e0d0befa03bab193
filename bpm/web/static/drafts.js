// Keeps a half-filled form when its person leaves the page: on the way out, what they typed is sent
// to /drafts/save (with the form's own CSRF token), and the page restores it next time.
// Only a convenience: without JavaScript the "Save draft" button does the same.
(function () {
  document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
    var changed = false, submitting = false;
    form.addEventListener("input", function () { changed = true; });
    form.addEventListener("change", function () { changed = true; });
    form.addEventListener("submit", function () { submitting = true; });
    function keep() {
      if (!changed || submitting) { return; }
      var data = new FormData(form);
      data.set("draft_key", form.getAttribute("data-draft-key"));
      navigator.sendBeacon("/drafts/save", data);
      changed = false;
    }
    window.addEventListener("pagehide", keep);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { keep(); }
    });
  });
})();
