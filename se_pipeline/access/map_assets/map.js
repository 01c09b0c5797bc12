/* The landing page's map (se-pipeline, Apache-2.0): Natural Earth country outlines under the
 * enterprises' points, clustered by leaflet.markercluster, coloured by where each point came
 * from (the source, or the pipeline's geocoding at some precision). No tiles: nothing is
 * fetched. Data arrives as JSON in <script type="application/json"> elements and every
 * value from it reaches the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("enterprise-map");
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var topo = JSON.parse(document.getElementById("map-countries").textContent);
  var colours = {}, labels = {};
  data.legend.forEach(function (c) { colours[c.key] = c.colour; labels[c.key] = c.label; });

  var map = L.map(el, { minZoom: 1, maxZoom: 13, zoomSnap: 0.5, worldCopyJump: false,
                        maxBounds: [[-90, -200], [90, 200]] });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Country outlines: Natural Earth (public domain)");
  // Rings that cross the antimeridian (Russia, Fiji) jump from +180 to -180; unwrapped, they
  // continue past 180 instead of drawing a line across the world. Antarctica holds no
  // enterprise and would wrap the pole: left out.
  function unwrap(ring) {
    var shift = 0;
    return ring.map(function (pt, i) {
      if (i > 0) {
        var step = pt[0] - ring[i - 1][0];
        if (step > 180) { shift -= 360; } else if (step < -180) { shift += 360; }
      }
      return [pt[0] + shift, pt[1]];
    });
  }
  var countries = topojson.feature(topo, topo.objects.countries);
  countries.features = countries.features.filter(function (f) { return f.id !== "010"; });
  countries.features.forEach(function (f) {
    var g = f.geometry;
    if (g.type === "Polygon") { g.coordinates = g.coordinates.map(unwrap); }
    if (g.type === "MultiPolygon") { g.coordinates = g.coordinates.map(function (p) { return p.map(unwrap); }); }
  });
  L.geoJSON(countries, {
    interactive: false,
    style: { className: "country", color: "#8795a1", weight: 0.7, fillColor: "#f3efe6", fillOpacity: 1 }
  }).addTo(map);

  function popup(p) {
    var box = document.createElement("div");
    var name = document.createElement("b");
    name.textContent = p[2];
    box.appendChild(name);
    var how = document.createElement("div");
    how.textContent = labels[p[4]] || p[4];
    box.appendChild(how);
    if (/^https?:\/\//.test(p[3])) {
      var a = document.createElement("a");
      a.href = p[3];
      a.textContent = p[3];
      box.appendChild(a);
    }
    return box;
  }

  var clusters = L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true, animate: false,
    iconCreateFunction: function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? 30 : n < 100 ? 36 : 44;
      return L.divIcon({ html: "<span>" + n + "</span>", className: "marker-cluster cluster",
                         iconSize: L.point(size, size) });
    }
  });
  var bounds = [], byIri = {};
  data.points.forEach(function (p) {
    var m = L.circleMarker([p[0], p[1]], { radius: 6, weight: 1, color: "#ffffff", fillColor: colours[p[4]],
                                           fillOpacity: 0.95, className: "pt pt-" + p[4] });
    m.bindPopup(function () { return popup(p); });
    clusters.addLayer(m);
    bounds.push([p[0], p[1]]);
    byIri[p[3]] = m;
  });
  map.addLayer(clusters);
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 9, animate: false });
  } else {
    map.setView([20, 0], 1.5, { animate: false });
  }
  // index.html#map=<enterprise IRI> opens that enterprise on the map (a link others can share).
  function openFromHash() {
    var m = /^#map=(.+)$/.exec(window.location.hash);
    var target = m && byIri[decodeURIComponent(m[1])];
    if (target) {
      // Not markercluster's zoomToShowLayer: it waits for an icon, which circle markers lack.
      // The smallest zoom at which it is out of its cluster (without tiles, deeper shows nothing).
      var z = Math.max(Math.round(map.getZoom()), 4);
      map.setView(target.getLatLng(), z, { animate: false });
      while (clusters.getVisibleParent(target) !== target && z < map.getMaxZoom()) {
        z += 1;
        map.setView(target.getLatLng(), z, { animate: false });
      }
      var parent = clusters.getVisibleParent(target);
      if (parent && parent !== target && parent.spiderfy) { parent.spiderfy(); }   // same spot as others
      target.openPopup();
    }
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
  el.setAttribute("data-ready", "true");
}());
