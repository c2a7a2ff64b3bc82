/* datahealth report: draws the overview charts on load, sorts and filters the dataset table, and opens
   a dataset's detail (its charts are drawn only then, so a thousand datasets cost nothing until opened).
   Data reaches the page only as text: DOM text nodes, or plotly labels escaped with esc(), never as HTML.
   The chart data and plotly.js are embedded gzip + base64 (a fifth of their size): inflated first, by the
   browser's own DecompressionStream, then plotly.js is run and the page drawn. */
(function () {
  "use strict";

  function inflate(id) {
    var binary = atob(document.getElementById(id).textContent), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  }

  if (typeof DecompressionStream === "undefined") {
    document.getElementById("dh-unsupported").hidden = false;
    return;
  }
  var marks = {};  // ms from navigation start at each step of the load (window.__dh.marks)
  Promise.all([inflate("dh-plotly"), inflate("dh-data")]).then(function (parts) {
    marks.inflated = performance.now();
    var script = document.createElement("script");
    script.text = parts[0];
    document.head.appendChild(script);
    marks.plotly = performance.now();
    var data = JSON.parse(parts[1]);
    marks.parsed = performance.now();
    start(data);
  });

  // The report itself, once its data and plotly.js are in.
  function start(DATA) {
  var T = DATA.t;
  var COLORS = {ok: "#2e7d32", warn: "#e08600", fail: "#c62828", unknown: "#6a1b9a"};
  var SEVERITY = {warn: "#e08600", error: "#c62828"};
  var OUTCOME_CODES = {p: 0, w: 1, f: 2, e: 3};
  var OUTCOME_NAMES = ["pass", "warn", "fail", "error"];
  var PLOT_CONFIG = {displaylogo: false, responsive: true};
  // ready: the charts in view at load are drawn (readyAt, ms from navigation start); drawn / deferred: the
  // overview charts drawn by then, and those left until they are scrolled near (see whenNear).
  var state = {ready: false, readyAt: null, detail: null, drawn: [], deferred: [], marks: marks};
  window.__dh = state;

  function esc(value) {
    return String(value == null ? "" : value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "cls") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child != null) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function label(value) {  // axis labels: escaped, and short enough to leave room for the chart
    var text = String(value == null ? "" : value);
    return esc(text.length > 40 ? text.slice(0, 39) + "\u2026" : text);
  }

  function labels(values) {  // category axes merge equal labels: keep each row its own
    var seen = {};
    return values.map(function (value) {
      var text = label(value), n = seen[text] = (seen[text] || 0) + 1;
      return n > 1 ? text + " [" + n + "]" : text;
    });
  }

  function pill(value, prefix) {
    return h("span", {cls: "pill " + (prefix || "pill-") + value, text: value});
  }

  function layout(extra) {
    var base = {
      margin: {l: 60, r: 20, t: 10, b: 40}, height: 280, hovermode: "closest",
      font: {family: "system-ui, sans-serif", size: 12}, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      xaxis: {type: "date", gridcolor: "#eef0f2"}, yaxis: {gridcolor: "#eef0f2", rangemode: "tozero"},
      legend: {orientation: "h", y: -0.18}
    };
    Object.keys(extra || {}).forEach(function (key) { base[key] = extra[key]; });
    return base;
  }

  function plot(node, traces, extra) {
    return Plotly.newPlot(node, traces, layout(extra), PLOT_CONFIG);
  }

  function note(node, text) {
    node.classList.remove("chart");
    node.appendChild(h("p", {cls: "muted", text: text}));
    return Promise.resolve();
  }

  // --- overview ----------------------------------------------------------------------------------

  function drawHealth() {
    var node = document.getElementById("health-chart");
    if (!node) return Promise.resolve();
    if (!T.length) return note(node, "No runs recorded in this window yet.");
    var traces = ["ok", "warn", "fail", "unknown"].map(function (status) {
      return {type: "bar", name: status, x: T, y: DATA.health[status], marker: {color: COLORS[status]},
              hovertemplate: "%{y} " + status + "<extra></extra>"};
    });
    traces.push({type: "scatter", mode: "lines+markers", name: "health score", x: T, y: DATA.health.score,
                 yaxis: "y2", line: {color: "#1a5fb4", width: 2}, hovertemplate: "score %{y}<extra></extra>"});
    return plot(node, traces, {barmode: "stack", height: 300, margin: {l: 60, r: 60, t: 10, b: 40},
                               yaxis: {title: {text: "datasets"}, gridcolor: "#eef0f2"},
                               yaxis2: {title: {text: "score"}, overlaying: "y", side: "right", range: [0, 105],
                                        tickvals: [0, 25, 50, 75, 100], showgrid: false}});
  }

  function drawIncidents() {
    var node = document.getElementById("incident-chart");
    if (!node) return Promise.resolve();
    var rows = DATA.incidents;  // [id, dataset, kind, severity, status, title, opened, resolved, events]
    if (!rows.length) return note(node, "No incidents in this window.");
    var end = Date.parse(DATA.asOf);
    var names = rows.map(function (r) { return "#" + r[0] + " " + label(r[1]); });
    var trace = {
      type: "bar", orientation: "h", y: names, base: rows.map(function (r) { return r[6]; }),
      x: rows.map(function (r) { return Math.max((r[7] ? Date.parse(r[7]) : end) - Date.parse(r[6]), 60000); }),
      marker: {color: rows.map(function (r) { return SEVERITY[r[3]] || COLORS.unknown; }),
               opacity: rows.map(function (r) { return r[4] === "resolved" ? 0.45 : 1; })},
      hovertext: rows.map(function (r) {
        return esc(r[5]) + "<br>" + esc(r[1]) + " · " + esc(r[2]) + " · " + esc(r[3]) + " · " + esc(r[4]) +
          "<br>opened " + esc(r[6]) + (r[7] ? "<br>resolved " + esc(r[7]) : "");
      }),
      hoverinfo: "text", showlegend: false
    };
    var note_ = DATA.incidentsTotal > rows.length ? " (newest " + rows.length + " of " + DATA.incidentsTotal + ")" : "";
    node.setAttribute("aria-label", "incidents over time" + note_);
    return plot(node, [trace], {height: Math.min(80 + 22 * rows.length, 900), margin: {l: 220, r: 20, t: 10, b: 40},
                                yaxis: {autorange: "reversed", automargin: true}, barmode: "overlay"});
  }

  // An overview chart far below the fold (the incident timeline, under a table of a thousand datasets) is
  // drawn when it comes within a screen of the viewport, so the page is ready when what the reader sees
  // is drawn. The promise settles once the chart is drawn, or at once when it starts out of reach.
  function whenNear(id, draw) {
    var node = document.getElementById(id);
    if (!node) return Promise.resolve();
    function drawn() { state.drawn.push(id); state.deferred = state.deferred.filter(function (d) { return d !== id; }); }
    if (typeof IntersectionObserver === "undefined") return draw().then(drawn);
    return new Promise(function (resolve) {
      var started = false;
      var observer = new IntersectionObserver(function (entries) {
        if (started) return;
        if (!entries.some(function (entry) { return entry.isIntersecting; })) {
          if (state.deferred.indexOf(id) < 0) state.deferred.push(id);
          resolve();
          return;
        }
        started = true;
        observer.disconnect();
        draw().then(drawn).then(resolve, resolve);
      }, {rootMargin: "100% 0px"});
      observer.observe(node);
    });
  }

  // --- dataset table -----------------------------------------------------------------------------

  function setupTable() {
    var table = document.getElementById("dataset-table");
    if (!table) return;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var filter = document.getElementById("dataset-filter");
    var status = document.getElementById("status-filter");
    var count = document.getElementById("dataset-count");

    headers.forEach(function (th) {
      var key = th.getAttribute("data-sort");
      if (!key) return;
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var current = th.getAttribute("aria-sort");
        var dir = current ? (current === "descending" ? "ascending" : "descending") : (numeric ? "descending" : "ascending");
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        rows.sort(function (a, b) {
          var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
          if (x === "" || y === "") return (x === "") - (y === "");  // blanks last either way
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return order * sign || a.getAttribute("data-name").localeCompare(b.getAttribute("data-name"));
        });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (row) { fragment.appendChild(row); });
        body.appendChild(fragment);
      });
    });

    function apply() {
      var text = filter.value.trim().toLowerCase(), wanted = status.value, shown = 0;
      rows.forEach(function (row) {
        var visible = (!text || row.getAttribute("data-search").indexOf(text) >= 0) &&
          (!wanted || row.getAttribute("data-status") === wanted);
        row.hidden = !visible;
        shown += visible ? 1 : 0;
      });
      var noun = rows.length === 1 ? " dataset" : " datasets";
      count.textContent = shown === rows.length ? rows.length + noun : shown + " of " + rows.length + noun;
    }
    filter.addEventListener("input", apply);
    status.addEventListener("change", apply);
    Array.prototype.forEach.call(document.querySelectorAll("[data-filter-status]"), function (card) {
      card.addEventListener("click", function () { status.value = card.getAttribute("data-filter-status"); apply(); });
    });
  }

  // --- dataset detail ----------------------------------------------------------------------------

  // The expected band is the volume detector's own range, as each run recorded it (ds.bd: axis index ->
  // [low, high]); nothing is recomputed here, so a point is marked only where the detector raised a finding.
  function band(ds) {
    var lo = T.map(function () { return null; }), hi = lo.slice();
    Object.keys(ds.bd || {}).forEach(function (key) { lo[+key] = ds.bd[key][0]; hi[+key] = ds.bd[key][1]; });
    return {lo: lo, hi: hi};
  }

  function pick(indices, values) {
    return {x: indices.map(function (i) { return T[i]; }), y: indices.map(function (i) { return values[i]; })};
  }

  function rowsChart(node, ds) {
    if (!ds.r.some(function (v) { return v != null; })) return note(node, "No row counts recorded in this window.");
    var expected = band(ds);
    var detector = ds.ax || [];
    var edge = {color: "rgba(26,95,180,0.45)", width: 1, dash: "dot"};
    var traces = [
      {type: "scatter", mode: "lines", x: T, y: expected.hi, line: edge, hoverinfo: "skip", showlegend: false},
      {type: "scatter", mode: "lines", x: T, y: expected.lo, line: edge, fill: "tonexty",
       fillcolor: "rgba(26,95,180,0.18)", name: "expected band", hoverinfo: "skip"},
      {type: "scatter", mode: "lines+markers", x: T, y: ds.r, name: "rows", line: {color: "#1a5fb4"},
       connectgaps: true, hovertemplate: "%{y:,} rows<extra></extra>"}
    ];
    if (detector.length) {
      var found = pick(detector, ds.r);
      traces.push({type: "scatter", mode: "markers", x: found.x, y: found.y, name: "anomaly",
                   marker: {color: COLORS.fail, size: 11, symbol: "x"}});
    }
    return plot(node, traces, {yaxis: {title: {text: "rows"}, gridcolor: "#eef0f2", rangemode: "tozero"}});
  }

  function lagChart(node, ds) {
    if (!ds.l.some(function (v) { return v != null; })) return note(node, "No freshness recorded in this window.");
    var traces = [{type: "scatter", mode: "lines+markers", x: T, y: ds.l, name: "lag", line: {color: "#1a5fb4"},
                   connectgaps: true, hovertemplate: "%{y:.1f} h behind<extra></extra>"}];
    var sla = ds.sla || [];
    [["warn SLA", sla[0], COLORS.warn], ["error SLA", sla[1], COLORS.fail]].forEach(function (line) {
      if (line[1] == null) return;
      traces.push({type: "scatter", mode: "lines", x: [T[0], T[T.length - 1]], y: [line[1], line[1]], name: line[0],
                   line: {color: line[2], dash: "dash"}, hovertemplate: line[0] + " %{y:.1f} h<extra></extra>"});
    });
    return plot(node, traces, {yaxis: {title: {text: "hours since last update"}, gridcolor: "#eef0f2", rangemode: "tozero"}});
  }

  // One colour scale for every dataset (0-100 % null, stretched at the low end where most ratios are), and
  // "no nulls" a colour of its own: a column without nulls reads as checked and clean, not as empty.
  var NULL_SCALE = [[0, "#e3f1e4"], [1e-7, "#fde4e1"], [0.01, "#f8bcb3"], [0.1, "#e5675b"], [1, "#8e1b1b"]];

  function nullsChart(node, ds) {
    if (!ds.nc || !ds.nc.length) return note(node, "No profiles recorded in this window.");
    var z = ds.nz.map(function (series) { return series.map(function (v) { return v == null ? null : v / 10000; }); });
    return plot(node, [{
      type: "heatmap", x: T, y: labels(ds.nc), z: z, zmin: 0, zmax: 100, colorscale: NULL_SCALE, xgap: 1, ygap: 1,
      colorbar: {title: {text: "% null"}, thickness: 10, tickvals: [0, 10, 25, 50, 100], ticksuffix: "%"},
      hovertemplate: "%{y}<br>%{x}<br>%{z:.4f}% null<extra></extra>"
    }], {height: Math.min(90 + 22 * ds.nc.length, 700), margin: {l: 140, r: 20, t: 10, b: 40},
         yaxis: {automargin: true, autorange: "reversed", type: "category"}});
  }

  function checksChart(node, ds) {
    if (!ds.ck || !ds.ck.length) return note(node, "No check results recorded in this window.");
    var names = labels(ds.ck.map(function (c) { return c[0] + (c[1] ? " (" + c[1] + ")" : ""); }));
    var z = ds.ck.map(function (c) {
      return c[2].split("").map(function (code) { return code in OUTCOME_CODES ? OUTCOME_CODES[code] : null; });
    });
    var text = z.map(function (series) { return series.map(function (v) { return v == null ? "not run" : OUTCOME_NAMES[v]; }); });
    var s = 1 / 6;
    return plot(node, [{
      type: "heatmap", x: T, y: names, z: z, text: text, zmin: 0, zmax: 3, showscale: false, xgap: 1, ygap: 1,
      colorscale: [[0, COLORS.ok], [s, COLORS.ok], [s, COLORS.warn], [3 * s, COLORS.warn], [3 * s, COLORS.fail],
                   [5 * s, COLORS.fail], [5 * s, COLORS.error], [1, COLORS.error]],
      hovertemplate: "%{y}<br>%{x}<br>%{text}<extra></extra>"
    }], {height: Math.min(90 + 22 * ds.ck.length, 700), margin: {l: 200, r: 20, t: 10, b: 40},
         yaxis: {automargin: true, autorange: "reversed", type: "category"}});
  }

  function table(headers, rows) {
    return h("table", {cls: "compact"}, [
      h("thead", {}, [h("tr", {}, headers.map(function (x) { return h("th", {text: x}); }))]),
      h("tbody", {}, rows.map(function (cells) {
        return h("tr", {}, cells.map(function (cell) {
          return cell instanceof Node ? h("td", {}, [cell]) : h("td", {text: cell == null ? "-" : String(cell)});
        }));
      }))
    ]);
  }

  function checksSection(ds) {
    var checks = ds.cl || [];
    if (!checks.length) return h("p", {cls: "muted", text: "No check results yet."});
    var body = [];
    body.push(table(["check", "type", "column", "outcome", "observed", "threshold", "failing rows", "message"],
      checks.map(function (c) {
        return [c[0], c[1], c[2], pill(c[3] === "pass" ? "ok" : c[3]), c[4], c[5], c[7], c[6]];
      })));
    return h("div", {}, body);
  }

  function schemaSection(ds) {
    var changes = ds.sc || [];
    if (!changes.length) return h("p", {cls: "muted", text: "No schema changes recorded."});
    return table(["when", "change", "column", "before", "after", "accepted"], changes.slice().reverse().map(function (c) {
      return [c[0].replace("T", " ").replace("Z", " UTC"), c[1].replace("_", " "), c[2], c[3], c[4], c[5] ? "yes" : "no"];
    }));
  }

  function findingsSection(ds) {
    var items = ds.f || [];
    if (!items.length) return null;
    return h("div", {}, [h("h3", {text: "Current findings"}), h("ul", {}, items.map(function (f) {
      var detail = [f[3], f[4] != null ? "observed " + f[4] : null, f[5] != null ? "expected " + f[5] : null]
        .filter(function (x) { return x; }).join(" · ");
      return h("li", {}, [pill(f[0], "sev-"), " ", h("strong", {text: f[2]}), detail ? " — " + detail : null]);
    }))]);
  }

  function openDetail(name) {
    var panel = document.getElementById("detail");
    var ds = Object.prototype.hasOwnProperty.call(DATA.ds, name) ? DATA.ds[name] : null;
    Array.prototype.forEach.call(panel.querySelectorAll(".js-plotly-plot"), function (node) { Plotly.purge(node); });
    panel.textContent = "";
    if (!ds) { panel.hidden = true; state.detail = null; return Promise.resolve(); }
    var close = h("button", {cls: "close", type: "button", text: "close"});
    close.addEventListener("click", function () { history.replaceState(null, "", "#datasets"); panel.hidden = true; });
    var meta = [];
    if (ds.d) meta.push(ds.d);
    if (ds.o && ds.o.length) meta.push("owners: " + ds.o.join(", "));
    if (ds.tg && ds.tg.length) meta.push("tags: " + ds.tg.join(", "));
    panel.appendChild(close);
    panel.appendChild(h("h2", {}, [pill(ds.st), " ", h("span", {cls: "dataset-name", text: name})]));
    if (meta.length) panel.appendChild(h("p", {cls: "muted", text: meta.join(" · ")}));
    if (ds.err) panel.appendChild(h("div", {cls: "error-box", text: (ds.ek ? ds.ek + ": " : "") + ds.err}));
    var findings = findingsSection(ds);
    if (findings) panel.appendChild(findings);
    var charts = {};
    var grid = h("div", {cls: "charts"}, [
      ["rows", "Row count"], ["lag", "Freshness lag against SLA"], ["nulls", "Null ratio per column"], ["checks", "Check results"]
    ].map(function (spec) {
      charts[spec[0]] = h("div", {id: "chart-" + spec[0], cls: "chart"});
      return h("div", {}, [h("h3", {text: spec[1]}), charts[spec[0]]]);
    }));
    panel.appendChild(grid);
    panel.appendChild(h("h3", {text: "Latest check results"}));
    panel.appendChild(checksSection(ds));
    panel.appendChild(h("h3", {text: "Schema change log"}));
    panel.appendChild(schemaSection(ds));
    panel.hidden = false;
    panel.scrollIntoView({block: "start"});
    var drawing = [[rowsChart, "rows"], [lagChart, "lag"], [nullsChart, "nulls"], [checksChart, "checks"]]
      .map(function (spec) { return spec[0](charts[spec[1]], ds); });
    return Promise.all(drawing).then(function () { state.detail = name; panel.setAttribute("data-ready", name); });
  }

  function route() {
    var match = /^#ds=(.*)$/.exec(window.location.hash);
    if (!match) return Promise.resolve();
    var name;
    try { name = decodeURIComponent(match[1]); } catch (e) { name = match[1]; }
    return openDetail(name);
  }

  function measureHeader() {  // deep links scroll below the sticky header (scroll-margin-top in report.css)
    var header = document.querySelector("header.top");
    if (header) document.documentElement.style.setProperty("--header-height", header.offsetHeight + "px");
  }

  measureHeader();
  window.addEventListener("resize", measureHeader);
  setupTable();
  marks.table = performance.now();
  window.addEventListener("hashchange", route);
  Promise.all([whenNear("health-chart", drawHealth), whenNear("incident-chart", drawIncidents)]).then(route).then(function () {
    state.ready = true;
    state.readyAt = performance.now();
    document.documentElement.setAttribute("data-ready", "1");
  });
  }
})();
