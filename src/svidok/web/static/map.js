// Svidok maps: points from a JSON block (or data-src) drawn as circle markers, with a
// precision circle, over the bundled country outline and, if configured, a tile layer.
// Labels are set with textContent only: stored names never become markup.
(function () {
  "use strict";
  var COLOURS = { item: "#0b5cad", incident: "#cf222e", place: "#1a7f37" };

  function popup(p) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.textContent = String(p.label || "");
    if (typeof p.url === "string" && p.url.indexOf("/cases/") === 0) { link.href = p.url; }
    box.appendChild(link);
    if (p.place) {
      var place = document.createElement("div");
      place.textContent = String(p.place);
      box.appendChild(place);
    }
    var where = document.createElement("div");
    where.className = "geo-coords";
    where.textContent = Number(p.lat).toFixed(5) + ", " + Number(p.lon).toFixed(5) +
      (p.precision_m ? " \u00b1 " + Number(p.precision_m) + " m" : "");
    box.appendChild(where);
    return box;
  }

  function outline(map, url) {
    if (!url || typeof topojson === "undefined") { return; }
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("outline " + r.status); }
      return r.json();
    }).then(function (topo) {
      var shapes = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(shapes, {
        pane: "outline", interactive: false,
        style: { color: "#7a8591", weight: 1, fillColor: "#f7f4ec", fillOpacity: 1 }
      }).addTo(map);
    }).catch(function () { /* the points still show without the outline */ });
  }

  function draw(el, points) {
    var map = L.map(el, { attributionControl: false, worldCopyJump: true });
    map.createPane("outline").style.zIndex = "250";
    outline(map, el.getAttribute("data-outline"));
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19, crossOrigin: false }).addTo(map); }
    var bounds = [];
    points.forEach(function (p) {
      var lat = Number(p.lat), lon = Number(p.lon);
      if (!isFinite(lat) || !isFinite(lon)) { return; }
      var colour = COLOURS[p.kind] || "#59636e";
      if (p.precision_m) {
        L.circle([lat, lon], { radius: Number(p.precision_m), color: colour, weight: 1,
          fillOpacity: 0.08, interactive: false }).addTo(map);
      }
      L.circleMarker([lat, lon], { radius: 6, color: "#ffffff", weight: 1.5, fillColor: colour,
        fillOpacity: 0.9 }).bindPopup(popup(p)).addTo(map);
      bounds.push([lat, lon]);
    });
    if (bounds.length) {
      map.fitBounds(L.latLngBounds(bounds), { padding: [30, 30], maxZoom: 14 });
    } else {
      map.setView([30, 10], 2);
    }
  }

  document.querySelectorAll("div.geo-map").forEach(function (el) {
    if (typeof L === "undefined") { return; }
    var block = document.getElementById(el.getAttribute("data-points") || "");
    var src = el.getAttribute("data-src");
    if (block) {
      var points = [];
      try { points = JSON.parse(block.textContent || "[]"); } catch (e) { points = []; }
      draw(el, Array.isArray(points) ? points : []);
    } else if (src) {
      fetch(src, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) { draw(el, data.points || []); });
    }
  });
})();
