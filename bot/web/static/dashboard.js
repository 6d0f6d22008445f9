// deltabot dashboard: the delta-versus-band chart (uPlot). No inline script: the CSP forbids it.
(function () {
  "use strict";
  var charts = {};

  function width(box) {
    return Math.max(320, Math.min(760, box.clientWidth / 2 - 16));
  }

  function options(name, box) {
    return {
      title: name + " total delta (coin)",
      width: width(box),
      height: 220,
      scales: { x: { time: true } },
      axes: [
        { stroke: "#8593a3", grid: { stroke: "#283341" } },
        { stroke: "#8593a3", grid: { stroke: "#283341" }, size: 70 },
      ],
      series: [
        { label: "UTC", value: "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" },
        { label: "total delta", stroke: "#d8dee6", width: 2 },
        { label: "band low", stroke: "#5aa9e6", dash: [6, 4] },
        { label: "band high", stroke: "#5aa9e6", dash: [6, 4] },
      ],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
    };
  }

  function draw(box, payload) {
    var names = Object.keys(payload.underlyings);
    if (names.length === 0 && !box.dataset.empty) {
      box.textContent = "No cycle has been planned yet.";
      box.dataset.empty = "1";
      return;
    }
    names.forEach(function (name) {
      var s = payload.underlyings[name];
      var data = [s.t, s.delta, s.low, s.high];
      if (charts[name]) {
        charts[name].setData(data);
        return;
      }
      if (box.dataset.empty) { box.textContent = ""; delete box.dataset.empty; }
      var holder = document.createElement("div");
      holder.className = "chart";
      holder.id = "chart-" + name;
      box.appendChild(holder);
      charts[name] = new uPlot(options(name, box), data, holder);
    });
  }

  function refresh(box) {
    fetch(box.dataset.source, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (payload) { draw(box, payload); })
      .catch(function () { /* the next poll retries; the panels show the daemon's state */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("charts");
    if (!box) { return; }
    var every = parseInt(document.body.dataset.refreshMs, 10) || 3000;
    refresh(box);
    setInterval(function () { refresh(box); }, every);
  });
})();
