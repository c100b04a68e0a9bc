/* qunzhu dashboard behaviour: draws charts, bulk selection, auto-submitting filters, and the
   offline banner. Pages work without it (plain forms and links); no inline scripts (CSP). */
(function () {
  "use strict";
  var ECHARTS = "/static/vendor/echarts-5.6.0.min.js";
  var loading = null;

  function withECharts(then) {
    if (window.echarts) { then(); return; }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = ECHARTS;
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    loading.then(then, function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        el.setAttribute("data-chart-state", "error");
        el.textContent = el.getAttribute("data-error") || "Chart could not be loaded.";
      });
    });
  }

  function drawCharts(root) {
    var boxes = (root || document).querySelectorAll("[data-chart]:not([data-chart-state])");
    if (!boxes.length) { return; }
    boxes.forEach(function (el) { el.setAttribute("data-chart-state", "pending"); });
    withECharts(function () {
      boxes.forEach(function (el) {
        var source = document.getElementById(el.getAttribute("data-chart"));
        if (!source) { return; }
        try {
          var option = JSON.parse(source.textContent);
          el.textContent = "";
          // on a dark page, ECharts' dark theme (light text) over the card's own background
          var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
          if (dark) { option.backgroundColor = "transparent"; }
          // SVG: text stays text (sharp when zoomed, findable, measurable by the browser tests)
          var chart = window.echarts.init(el, dark ? "dark" : null, { renderer: "svg" });
          chart.setOption(option);
          el.setAttribute("data-chart-state", "drawn");
        } catch (err) {
          el.setAttribute("data-chart-state", "error");
          el.textContent = el.getAttribute("data-error") || "Chart could not be drawn.";
        }
      });
    });
  }

  function resizeCharts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart-state=drawn]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  }

  function disposeCharts(root) {
    if (!window.echarts || !root) { return; }
    root.querySelectorAll("[data-chart-state=drawn]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.dispose(); }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) { return; }
    var name = target.getAttribute("data-select-all");
    if (name) {
      document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.hasAttribute("data-autosubmit") && target.form) { target.form.requestSubmit(); }
  });

  function banner(show) {
    var el = document.getElementById("offline");
    if (el) { el.hidden = !show; }
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:load", function (event) { drawCharts(event.target); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status >= 400 && target && target.hasAttribute("data-fragment")) {
      // a fragment that failed keeps its place and says so, instead of a whole error page
      event.detail.shouldSwap = false;
      var spot = target.querySelector(".chart-loading") || target;
      spot.textContent = target.getAttribute("data-error") || "Could not load.";
      spot.removeAttribute("aria-busy");
      target.setAttribute("data-fragment-state", "error");
      return;
    }
    disposeCharts(target);
  });
  document.addEventListener("htmx:sendError", function () { banner(true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { banner(false); }
  });
  window.addEventListener("resize", resizeCharts);
})();
