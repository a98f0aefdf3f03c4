// dynbooks: draws the charts (ECharts, SVG renderer) from the JSON beside them, and small form helpers.
// No inline scripts anywhere: the Content-Security-Policy allows only files from this site.
(function () {
  "use strict";

  function drawCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var chart = echarts.init(el, null, { renderer: "svg" });
      var stacked = spec.kind === "stacked";
      if (spec.kind === "scatter") {
        // Points are [x, y] or [x, y, account id]; the x axis is logarithmic (company size).
        chart.setOption({
          animation: false,
          tooltip: { trigger: "item", formatter: function (p) {
            return (p.value[2] ? p.value[2] + ": " : "") + p.value[1] + " (" + p.value[0] + " " + spec.x + ")";
          } },
          legend: { top: 0 },
          grid: { left: 48, right: 16, top: 36, bottom: 40 },
          xAxis: { type: "log", name: spec.x, nameLocation: "middle", nameGap: 26 },
          yAxis: { type: "value", name: spec.y, min: 0, max: 100 },
          series: spec.series.map(function (s) {
            return { name: s.name, type: "scatter", symbolSize: 5, large: true, data: s.data };
          })
        });
        el.dataset.drawn = "1";
        window.addEventListener("resize", function () { chart.resize(); });
        return;
      }
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 16, top: 36, bottom: 48 },
        xAxis: { type: "category", data: spec.categories, axisLabel: { rotate: spec.categories.length > 8 ? 45 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: spec.series.map(function (s) {
          return { name: s.name, type: "bar", data: s.data, stack: stacked ? "total" : undefined };
        })
      });
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function reasonHelper(root) {
    var select = root.querySelector("#reason");
    var until = root.querySelector("#until");
    if (!select || !until) return;
    var field = root.querySelector("#until-field");
    function sync() {
      var option = select.options[select.selectedIndex];
      var needsDate = option && option.dataset.route === "rest_until";
      until.required = needsDate;
      if (field) field.hidden = !needsDate;
    }
    select.addEventListener("change", sync);
    sync();
  }

  // Forms that cannot be undone ask first (data-confirm="question").
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) e.preventDefault();
  }, true);

  function init(root) { drawCharts(root); reasonHelper(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
  // Errors from htmx requests (422, 409, 404) are shown in the target instead of being dropped.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status >= 400 && e.detail.xhr.status !== 401) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
