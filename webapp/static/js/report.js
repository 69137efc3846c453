/* The annual statistics report: draws each chart from the page's JSON (the numbers its table shows). */
(function () {
  "use strict";
  var block = document.getElementById("report-data");
  if (!block || typeof Chart === "undefined") { return; }
  var palette = ["#1a56a8", "#2e8b57", "#c0392b", "#b07d00", "#7d5ba6", "#5c6678", "#d35400", "#16a085"];

  JSON.parse(block.textContent).forEach(function (spec) {
    var canvas = document.querySelector('canvas[data-chart="' + spec.key + '"]');
    if (!canvas || spec.empty) { return; }
    var doughnut = spec.kind === "doughnut";
    var horizontal = spec.kind === "bar-horizontal";
    var amounts = spec.key === "penalties";  // counts on the left axis, yuan on the right
    var datasets = spec.series.map(function (series, i) {
      return {
        label: series.label,
        data: series.values,
        backgroundColor: doughnut ? palette.slice(0, series.values.length) : palette[i % palette.length],
        borderColor: doughnut ? "#fff" : palette[i % palette.length],
        yAxisID: amounts && i > 0 ? "amount" : "y"
      };
    });
    var scales = {};
    if (!doughnut) {
      scales = horizontal ? { x: { beginAtZero: true, ticks: { precision: 0 } } }
                          : { y: { beginAtZero: true, ticks: { precision: 0 } } };
    }
    if (amounts) { scales.amount = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }; }
    new Chart(canvas, {
      type: doughnut ? "doughnut" : "bar",
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
