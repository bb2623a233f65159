/* The chart of a Datastream page, drawn with uPlot from the public SensorThings API (raw
   Observations, or $aggregate buckets for long ranges). The same figures are in the table
   beneath it, which is what assistive technology reads; the chart is an image of it. */
(function () {
  "use strict";
  var holder = document.getElementById("chart");
  var config = JSON.parse(document.getElementById("chart-config").textContent);
  var text = config.messages;
  var root = document.querySelector("link[href$='/static/cityhub.css']")
    .getAttribute("href").replace(/\/static\/cityhub\.css$/, "");
  var seconds = function (time) { return Date.parse(time.split("/")[0]) / 1000; };

  function columns(values) {
    if (config.aggregated) {
      return [
        values.map(function (v) { return seconds(v.phenomenonTime); }),
        values.map(function (v) { return v.avg; }),
        values.map(function (v) { return v.min; }),
        values.map(function (v) { return v.max; }),
      ];
    }
    var numeric = values.filter(function (v) { return typeof v.result === "number"; });
    return [
      numeric.map(function (v) { return seconds(v.phenomenonTime); }),
      numeric.map(function (v) { return v.result; }),
    ];
  }

  function series() {
    var unit = config.unit ? " (" + config.unit + ")" : "";
    if (!config.aggregated) {
      return [{ label: text["portal.chart.time"] }, { label: text["portal.chart.value"] + unit,
        stroke: "#0b4f8a", width: 2 }];
    }
    return [
      { label: text["portal.chart.time"] },
      { label: text["portal.chart.avg"] + unit, stroke: "#0b4f8a", width: 2 },
      { label: text["portal.chart.min"] + unit, stroke: "#4a5361", dash: [4, 4], width: 1 },
      { label: text["portal.chart.max"] + unit, stroke: "#8a4b00", dash: [10, 4], width: 1 },
    ];
  }

  function draw(values) {
    holder.textContent = "";
    var width = Math.max(280, holder.clientWidth || 600);
    var plot = new uPlot({
      width: width, height: 320, series: series(),
      axes: [{}, { label: config.unit || "" }],
      spanGaps: false,
    }, columns(values), holder);
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(280, holder.clientWidth), height: 320 });
    });
    holder.setAttribute("data-ready", "true");
  }

  holder.textContent = text["portal.chart.loading"];
  fetch(root + config.api, { headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    })
    .then(function (body) { draw(body.value || []); })
    .catch(function () { holder.textContent = text["portal.chart.failed"]; });
})();
