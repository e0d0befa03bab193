// A diagram shown at actual size scrolls inside its box: bring the current step into view (when the page opens
// and when "Actual size" is ticked), so nobody has to hunt for where the request is.
(function () {
  function show(box) {
    var wrap = box.querySelector(".diagram-wrap");
    var now = wrap && wrap.querySelector(".node.current");
    if (!now || wrap.scrollWidth <= wrap.clientWidth) return;
    var w = wrap.getBoundingClientRect(), n = now.getBoundingClientRect();
    wrap.scrollLeft += (n.left + n.width / 2) - (w.left + w.width / 2);
  }
  document.querySelectorAll(".diagram-box").forEach(function (box) {
    show(box);
    var zoom = box.querySelector(".zoom");
    if (zoom) zoom.addEventListener("change", function () { window.requestAnimationFrame(function () { show(box); }); });
  });
})();
