/* Dashboard: on request, turns a server-rendered SVG chart into an interactive uPlot chart.

   The SVG is the chart: nothing here runs on page load but one listener. Opening a chart's
   "Explore day by day" fetches uPlot (once for the page) and draws that chart; closing it
   brings the SVG back. Loading and drawing six uPlot charts up front cost a phone a few hundred
   milliseconds of main thread for something most visits never use (QUALITY P7).

   The SVG stays in the page (visually hidden while the interactive chart shows) as the picture
   a screen reader is given. Data come from the JSON block the server rendered with json_script
   (numbers, dates and our own labels only). No inline script, no style attributes: uPlot sizes
   its own elements through the CSSOM, which the CSP allows; the scripts and style sheet it
   needs come from this origin, named by this script tag's data attributes. */
(function () {
  "use strict";

  var me = document.currentScript;
  var UPLOT_JS = me && me.getAttribute("data-uplot-js");
  var UPLOT_CSS = me && me.getAttribute("data-uplot-css");
  var SAYS = {
    loading: "Loading the interactive chart…",
    ready: "Touch or point at the chart to see each day’s values. The daily values below list every day.",
    failed: "The interactive chart could not be loaded. The chart above and the daily values below show the same days.",
  };

  var data = null;
  function chartData() {
    if (data) return data;
    var source = document.getElementById("dashboard-data");
    if (!source) return null;
    try {
      data = JSON.parse(source.textContent);
    } catch (e) {
      return null;
    }
    return data && data.metrics && data.dates && data.dates.length ? data : null;
  }

  // uPlot and its style sheet, fetched once, on the first request for an interactive chart.
  var loading = null;
  function loadUplot() {
    if (typeof window.uPlot === "function") return Promise.resolve(window.uPlot);
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      if (!UPLOT_JS) return reject(new Error("no uPlot"));
      var pending = UPLOT_CSS ? 2 : 1;
      function one() {
        if (--pending === 0) {
          if (typeof window.uPlot === "function") resolve(window.uPlot);
          else reject(new Error("no uPlot"));
        }
      }
      function failed() {
        loading = null; // a later attempt may succeed
        reject(new Error("uPlot did not load"));
      }
      if (UPLOT_CSS) {
        var link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = UPLOT_CSS;
        link.onload = one;
        link.onerror = failed;
        document.head.appendChild(link);
      }
      var script = document.createElement("script");
      script.src = UPLOT_JS;
      script.onload = one;
      script.onerror = failed;
      document.head.appendChild(script);
    });
    return loading;
  }

  var MINE = "#2f6b5f";
  var PARTNER = "#6a4c93";
  var MUTED = "#4d5b60";
  var GRID = "#dfe4e2";
  var HEIGHT = 220;

  var uPlot, xs, tz, fmtDay, fmtTick;
  function prepare(lib) {
    if (uPlot) return;
    uPlot = lib;
    xs = data.dates.map(function (iso) {
      var p = iso.split("-");
      return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 1000;
    });
    // Dates are calendar days, not instants: show them in UTC so no time zone shifts a day.
    tz = function (ts) {
      return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
    };
    fmtDay = uPlot.fmtDate("{WWW} {D} {MMM}");
    fmtTick = uPlot.fmtDate("{D} {MMM}");
  }

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
    if (!m || !figure) throw new Error("no data for this chart");

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
        if (el.hidden) return; // put away (the SVG is back): keep the size it had
        var w = widthOf(el);
        if (w !== last) {
          last = w;
          plot.setSize({ width: w, height: HEIGHT });
        }
      }).observe(el);
    }
  }

  function say(details, key) {
    var note = details.querySelector(".dash-explore-note");
    if (note) note.textContent = SAYS[key];
  }

  function show(details, live) {
    var figure = live.closest(".dash-chart");
    if (!details.open) return;
    live.hidden = false;
    figure.classList.add("is-live");
    say(details, "ready");
  }

  function hide(live) {
    live.hidden = true;
    var figure = live.closest(".dash-chart");
    if (figure) figure.classList.remove("is-live");
  }

  function explore(details) {
    var section = details.closest(".dash-metric");
    var live = section && section.querySelector(".chart-live[data-metric]");
    if (!live) return;
    if (!details.open) return hide(live);
    if (live.getAttribute("data-built") === "yes") return show(details, live);
    if (!chartData()) return say(details, "failed");
    say(details, "loading");
    loadUplot().then(
      function (lib) {
        if (live.getAttribute("data-built") === "yes") return show(details, live);
        try {
          prepare(lib);
          live.hidden = false; // measured for its width, so shown before drawing
          upgrade(live);
          live.setAttribute("data-built", "yes");
          if (details.open) show(details, live);
          else hide(live);
        } catch (e) {
          // Leave the server-rendered chart in place.
          hide(live);
          live.textContent = "";
          say(details, "failed");
        }
      },
      function () {
        say(details, "failed");
      }
    );
  }

  // "toggle" does not bubble; listening in the capture phase hears every <details>.
  document.addEventListener(
    "toggle",
    function (event) {
      var target = event.target;
      if (target && target.classList && target.classList.contains("dash-explore")) explore(target);
    },
    true
  );
})();
