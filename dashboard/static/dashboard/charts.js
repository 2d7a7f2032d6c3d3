/* Dashboard charts: Chart.js (served by the app) draws from the JSON that the page embeds with
   json_script. Every chart has a data table next to it; the canvas is decoration for sighted
   users. No inline script, so a strict Content-Security-Policy can forbid them. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var Chart = window.Chart;
  // DSFR palette: blue France, green (target), orange, and greys.
  var BLUE = "#000091", LIGHT_BLUE = "#6a6af4", GREEN = "#18753c", ORANGE = "#e4794a",
    YELLOW = "#fcc63a", GREY = "#929292";
  Chart.defaults.font.family = "Marianne, arial, sans-serif";
  Chart.defaults.color = "#3a3a3a";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function bar(canvas, block, color, horizontal) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: block.labels,
        datasets: [{ label: block.series, data: block.values, backgroundColor: color }]
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                  y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  var builders = {
    trend: function (canvas) {
      var t = data.trend;
      return new Chart(canvas, {
        data: {
          labels: t.labels,
          datasets: [
            { type: "bar", label: t.labels_series.submitted, data: t.submitted, backgroundColor: LIGHT_BLUE, yAxisID: "y" },
            { type: "bar", label: t.labels_series.local, data: t.local, backgroundColor: GREEN, stack: "decided", yAxisID: "y" },
            { type: "bar", label: t.labels_series.national, data: t.national, backgroundColor: ORANGE, stack: "decided", yAxisID: "y" },
            { type: "line", label: t.labels_series.rate, data: t.rate, borderColor: BLUE, backgroundColor: BLUE, yAxisID: "rate", spanGaps: true },
            { type: "line", label: t.labels_series.target, data: t.labels.map(function () { return t.target; }),
              borderColor: GREY, borderDash: [6, 4], pointRadius: 0, yAxisID: "rate" }
          ]
        },
        options: {
          scales: {
            y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
            rate: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false },
                    ticks: { callback: function (v) { return v + " %"; } } }
          }
        }
      });
    },
    states: function (canvas) { return bar(canvas, data.states, LIGHT_BLUE, true); },
    grounds: function (canvas) { return bar(canvas, data.grounds, ORANGE, true); },
    instruments: function (canvas) { return bar(canvas, data.instruments, BLUE, true); },
    backlog: function (canvas) {
      var b = data.backlog, colors = [LIGHT_BLUE, BLUE, YELLOW, ORANGE];
      return new Chart(canvas, {
        type: "bar",
        data: {
          labels: b.labels,
          datasets: b.datasets.map(function (d, i) {
            return { label: d.label, data: d.values, backgroundColor: colors[i % colors.length] };
          })
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var build = builders[canvas.getAttribute("data-chart")];
    if (build) {
      build(canvas);
    }
  });
})();
