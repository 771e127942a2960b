/* fenceline report: the interactive map. Vector layers only (no tiles, no network). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("fenceline-map-data").textContent);
  var mapEl = document.getElementById("map");
  if (!mapEl || typeof L === "undefined") { return; }

  var LAYER_COLOURS = { primary: "#b3261e", secondary: "#e8710a", tertiary: "#7b1fa2", other: "#5f6368" };
  var KIND_COLOURS = { guard_post: "#1a5fb4", watchtower: "#0b8043", garrison: "#6d4c41", checkpoint: "#c2185b", other: "#5f6368" };
  var renderer = L.canvas({ padding: 0.3 });
  var map = L.map(mapEl, { preferCanvas: true, renderer: renderer, zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(mapEl.getAttribute("data-attribution"));
  var drawn = 0;

  function count(layer) {
    layer.eachLayer(function () { drawn += 1; });
    return layer;
  }
  function dashFor(change) {
    return change === "upgraded" ? "6 3" : (change === "uncertain" ? "2 4" : null);
  }

  var areas = count(L.geoJSON(data.areas, {
    style: { color: "#52606d", weight: 1, dashArray: "4 3", fillColor: "#fff8e1", fillOpacity: 0.5 },
    onEachFeature: function (f, layer) {
      var label = f.properties.name + (f.properties.nested_in ? " (inside " + f.properties.nested_in + ")" : "");
      layer.bindTooltip(label, f.properties.nested_in ? { sticky: true } :
        { permanent: true, direction: "left", className: "area-label", offset: [-12, 0] });
    }
  }));
  var rivers = count(L.geoJSON(data.rivers, { style: { color: "#6fa8dc", weight: 2, opacity: 0.8 }, interactive: false }));
  var border = count(L.geoJSON(data.border, { style: { color: "#1f2933", weight: 2.5 } }));
  var COUNTRIES = { KP: "North Korea", CN: "China", RU: "Russia" };
  var places = count(L.geoJSON(data.places, {
    pointToLayer: function (f, latlng) {
      var p = f.properties;
      var country = COUNTRIES[p.country_code] || p.country_code || "";
      // the larger towns are always labelled; every other place names itself on hover
      var major = (p.population || 0) >= 100000;
      return L.circleMarker(latlng, { radius: major ? 3.5 : 2.5, color: "#1f2933", weight: 1,
        fillColor: p.country_code === "KP" ? "#fff" : "#cfd6dd", fillOpacity: 1 })
        .bindTooltip(major ? p.label : p.label + (country ? " (" + country + ")" : ""),
          major ? { permanent: true, direction: "right", className: "place-label", offset: [4, 0] }
                : { direction: "right" });
    }
  }));

  function fenceLayer(epoch) {
    return count(L.geoJSON(data.fences, {
      filter: function (f) { return f.properties[epoch] === "present"; },
      style: function (f) {
        return { color: LAYER_COLOURS[f.properties.layer] || "#5f6368", weight: 2,
                 dashArray: epoch === "at" ? dashFor(f.properties.change) : null };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup("<b>" + p.id + "</b><br>" + p.layer + " fence<br>change: " + p.change +
          "<br>before: " + p.since + "<br>after: " + p.at);
      }
    }));
  }
  function facilityLayer(epoch) {
    return count(L.geoJSON(data.facilities, {
      filter: function (f) { return f.properties[epoch] === "present"; },
      pointToLayer: function (f, latlng) {
        var p = f.properties;
        return L.circleMarker(latlng, { radius: p.change === "new" ? 2.5 : 3.5, weight: p.change === "new" ? 0 : 1,
          color: "#1f2933", fillColor: KIND_COLOURS[p.kind] || "#5f6368", fillOpacity: 0.9 })
          .bindPopup("<b>" + p.id + "</b><br>" + p.kind.replace("_", " ") + "<br>change: " + p.change);
      }
    }));
  }
  var epochs = {
    at: L.layerGroup([fenceLayer("at"), facilityLayer("at")]),
    since: L.layerGroup([fenceLayer("since"), facilityLayer("since")])
  };
  areas.addTo(map); rivers.addTo(map); border.addTo(map); places.addTo(map);
  var current = mapEl.getAttribute("data-initial") || "at";
  epochs[current].addTo(map);

  var bounds = areas.getLayers().length ? areas.getBounds() : border.getBounds();
  map.fitBounds(bounds, { padding: [10, 10] });
  // printing (and the PDF) lays the page out at another width: fit the map again
  function refit() { map.invalidateSize({ animate: false }); map.fitBounds(bounds, { padding: [10, 10], animate: false }); }
  window.addEventListener("beforeprint", refit);
  if (window.matchMedia) {
    var printing = window.matchMedia("print");
    if (printing.addEventListener) { printing.addEventListener("change", function (e) { if (e.matches) { refit(); } }); }
  }

  // how many fences and facilities the map shows for the date chosen (read by the tests)
  function shown(epoch) {
    var n = 0;
    epochs[epoch].eachLayer(function (group) { n += group.getLayers().length; });
    return n;
  }
  mapEl.setAttribute("data-shown", String(shown(current)));
  document.querySelectorAll("input[name=epoch]").forEach(function (input) {
    input.addEventListener("change", function () {
      map.removeLayer(epochs[current]);
      current = input.value;
      epochs[current].addTo(map);
      mapEl.setAttribute("data-epoch", current);
      mapEl.setAttribute("data-shown", String(shown(current)));
    });
  });
  document.querySelectorAll("[data-zoom-area]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var name = link.getAttribute("data-zoom-area");
      areas.eachLayer(function (layer) {
        if (layer.feature.properties.name === name) { map.fitBounds(layer.getBounds()); }
      });
      mapEl.scrollIntoView({ behavior: "smooth" });
      event.preventDefault();
    });
  });
  // at the overview scale thousands of facilities would hide the fences: draw them smaller
  function sizeFacilities() {
    var small = map.getZoom() < 10;
    ["at", "since"].forEach(function (epoch) {
      epochs[epoch].getLayers()[1].eachLayer(function (marker) {
        var isNew = marker.feature.properties.change === "new";
        marker.setRadius(small ? (isNew ? 1.2 : 2) : (isNew ? 2.5 : 3.5));
      });
    });
  }
  map.on("zoomend", sizeFacilities);
  sizeFacilities();
  L.control.scale({ imperial: false }).addTo(map);
  mapEl.setAttribute("data-features-drawn", String(drawn));
  mapEl.setAttribute("data-epoch", current);
})();
