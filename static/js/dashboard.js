/* Dashboard: upgrades each server-rendered SVG chart into an interactive uPlot chart.

   The SVG stays in the page (visually hidden once upgraded) as the picture a screen reader is
   given and as the chart people see without JavaScript. Data come from the JSON block the server
   rendered with json_script (numbers, dates and our own labels only). No inline script, no
   style attributes: uPlot sizes its own elements through the CSSOM, which the CSP allows. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  var uPlot = window.uPlot;
  if (!source || typeof uPlot !== "function") return;

  var data;
  try {
    data = JSON.parse(source.textContent);
  } catch (e) {
    return;
  }
  if (!data || !data.metrics || !data.dates || !data.dates.length) return;

  var MINE = "#2f6b5f";
  var PARTNER = "#6a4c93";
  var MUTED = "#4d5b60";
  var GRID = "#dfe4e2";
  var HEIGHT = 220;

  var xs = data.dates.map(function (iso) {
    var p = iso.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 1000;
  });
  // Dates are calendar days, not instants: show them in UTC so no time zone shifts a day.
  var tz = function (ts) {
    return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
  };
  var fmtDay = uPlot.fmtDate("{WWW} {D} {MMM}");
  var fmtTick = uPlot.fmtDate("{D} {MMM}");

  function fmtValue(u, v) {
    return v == null ? "–" : String(v);
  }

  // The partner's markers are hollow squares, as in the SVG: colour is never the only signal.
  function squarePoints(u, seriesIdx, idx0, idx1) {
    var series = u.series[seriesIdx];
    var ratio = window.devicePixelRatio || 1;
    var half = ((series.points.size - series.points.width) / 2) * ratio;
    var xs = u.data[0];
    var ys = u.data[seriesIdx];
    var path = new Path2D();
    for (var i = idx0; i <= idx1; i++) {
      if (ys[i] == null) continue;
      var x = Math.round(u.valToPos(xs[i], "x", true));
      var y = Math.round(u.valToPos(ys[i], "y", true));
      path.rect(x - half, y - half, half * 2, half * 2);
    }
    return { stroke: path, fill: path };
  }

  function ticks(min, max, step) {
    var out = [];
    for (var v = min; v <= max; v += step) out.push(v);
    return out;
  }

  function widthOf(el) {
    return Math.max(200, Math.floor(el.getBoundingClientRect().width));
  }

  function upgrade(el) {
    var m = data.metrics[el.getAttribute("data-metric")];
    var figure = el.closest(".dash-chart");
    if (!m || !figure) return;

    var dense = xs.length > 45;
    var series = [
      {
        label: "Day",
        value: function (u, ts) {
          return ts == null ? "–" : fmtDay(tz(ts));
        },
      },
    ];
    var columns = [xs];
    if (m.mine) {
      series.push({
        label: "You",
        stroke: MINE,
        width: 2,
        value: fmtValue,
        points: { show: true, size: dense ? 5 : 7, fill: MINE, stroke: MINE },
      });
      columns.push(m.mine);
    }
    if (data.partner !== null && m.partner) {
      series.push({
        label: data.partner + " (shared)",
        stroke: PARTNER,
        width: 2,
        dash: [6, 4],
        value: fmtValue,
        points: {
          show: true,
          size: dense ? 6 : 8,
          width: dense ? 1 : 1.5,
          fill: "#ffffff",
          stroke: PARTNER,
          paths: squarePoints,
        },
      });
      columns.push(m.partner);
    }

    // Away from the chart, the values under it are those of the latest day with any.
    var latest = xs.length - 1;
    while (latest > 0 && columns.slice(1).every(function (c) { return c[latest] == null; })) {
      latest--;
    }
    function showLatest(u) {
      if (u.cursor.idx == null) u.setLegend({ idx: latest }, false);
    }

    var pad = m.step > 1 ? 0.5 : 0.25;
    el.hidden = false;
    // The canvas says nothing to assistive technology; the SVG's title and description do.
    el.setAttribute("aria-hidden", "true");
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      tzDate: tz,
      scales: {
        x: { time: true },
        y: { range: [m.min - pad, m.max + pad] },
      },
      axes: [
        {
          stroke: MUTED,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          // A date every week (or every 2, 3, 4 weeks as space requires), counted back from
          // today, like the server-rendered chart.
          splits: function (u) {
            var most = Math.max(2, Math.floor(u.bbox.width / (window.devicePixelRatio || 1) / 60));
            var step = 7;
            while (Math.ceil(xs.length / step) > most) step += 7;
            var out = [];
            for (var i = xs.length - 1; i >= 0; i -= step) out.unshift(xs[i]);
            return out;
          },
          values: function (u, splits) {
            return splits.map(function (v) {
              return fmtTick(tz(v));
            });
          },
        },
        {
          stroke: MUTED,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          size: 36,
          splits: function () {
            return ticks(m.min, m.max, m.step);
          },
          values: function (u, splits) {
            return splits.map(String);
          },
        },
      ],
      series: series,
      cursor: { drag: { x: false, y: false, setScale: false } },
      legend: { live: true },
      hooks: { ready: [showLatest], setCursor: [showLatest] },
    };
    var plot = new uPlot(opts, columns, el);
    figure.classList.add("is-live");

    if (typeof ResizeObserver === "function") {
      var last = opts.width;
      new ResizeObserver(function () {
        var w = widthOf(el);
        if (w !== last) {
          last = w;
          plot.setSize({ width: w, height: HEIGHT });
        }
      }).observe(el);
    }
  }

  function upgradeOrLeave(el) {
    try {
      upgrade(el);
    } catch (e) {
      // Leave the server-rendered chart in place.
      el.hidden = true;
      var fig = el.closest(".dash-chart");
      if (fig) fig.classList.remove("is-live");
    }
  }

  // One chart per task: six charts built in one go block the main thread for long enough to
  // delay a tap on a slow phone (QUALITY P7); between charts the browser can respond.
  function start() {
    var charts = document.querySelectorAll(".chart-live[data-metric]");
    var i = 0;
    (function next() {
      if (i >= charts.length) return;
      upgradeOrLeave(charts[i++]);
      if (i < charts.length) setTimeout(next, 0);
    })();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
