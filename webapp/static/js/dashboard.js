/* The supervision dashboard: draws each chart from the page's JSON (the numbers the tables show). */
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(block.textContent);
  var palette = ["#1a56a8", "#c0392b", "#e0a800", "#2e8b57", "#7d5ba6", "#5c6678", "#d35400", "#16a085"];
  var bySeries = { red: "#c0392b", yellow: "#e0a800", open: "#1a56a8", filed: "#1a56a8", closed: "#2e8b57" };

  charts.forEach(function (spec) {
    var canvas = document.querySelector('canvas[data-chart="' + spec.key + '"]');
    if (!canvas) { return; }
    var doughnut = spec.kind === "doughnut";
    var horizontal = spec.kind === "bar-horizontal";
    var datasets = spec.series.map(function (series, i) {
      var colour = bySeries[spec.key === "open_by_unit" ? ["open", "red", "yellow"][i] : ""] || palette[i % palette.length];
      return {
        label: series.label,
        data: series.values,
        backgroundColor: doughnut ? palette.slice(0, series.values.length) : colour,
        borderColor: doughnut ? "#fff" : colour,
        fill: false,
        tension: 0.25,
        yAxisID: spec.key === "penalties" && i > 0 ? "amount" : "y"
      };
    });
    var scales = doughnut ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } };
    if (spec.key === "penalties") {
      scales.amount = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
    }
    if (horizontal) { scales = { x: { beginAtZero: true } }; }
    new Chart(canvas, {
      type: doughnut ? "doughnut" : spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 || doughnut, position: "bottom" } },
        scales: scales
      }
    });
  });
})();
