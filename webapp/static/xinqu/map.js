/* xinqu map layers: GeoJSON fetched from the service's own API, styled per layer.
 *
 * Every layer is an L.GeoJSON filled asynchronously from a URL (the page itself carries
 * no geometry). Names go into tooltips as text nodes, never as HTML; popups are HTML
 * fragments rendered (and escaped) by the server, fetched when a popup opens.
 */
(function () {
  "use strict";

  var xinqu = (window.xinqu = window.xinqu || { layers: {}, loading: 0 });
  xinqu.decorators = xinqu.decorators || []; // planner views: function (layerId, layer, style)

  var NAME_ORDER = {
    en: ["name_en", "name_zh_hans"],
    "zh-Hant": ["name_zh_hant", "name_zh_hans", "name_en"],
  };

  /* A feature's name in the interface language (labels.js uses it too). */
  function nameOf(props, lang) {
    var order = NAME_ORDER[lang] || ["name_zh_hans", "name_en"];
    for (var i = 0; i < order.length; i++) {
      if (props[order[i]]) return props[order[i]];
    }
    return props.id;
  }

  xinqu.nameOf = nameOf;

  function textElement(text, className) {
    var span = document.createElement("span");
    if (className) span.className = className;
    span.textContent = text;
    return span;
  }

  function isApproximate(feature) {
    return feature.properties && feature.properties.extent === "approximate";
  }

  function styleFor(spec, feature) {
    var style = { color: spec.color, weight: spec.weight || 1, opacity: 0.9 };
    if (spec.kind === "area") {
      style.fillColor = spec.color;
      style.fillOpacity = spec.fill_opacity;
      if (isApproximate(feature)) {
        style.dashArray = spec.approximate_dash;
        style.fillOpacity = spec.approximate_fill_opacity;
      }
    } else if (spec.kind === "region") {
      style.fillColor = spec.color;
      style.fillOpacity = spec.fill_opacity;
    } else if (spec.kind === "outline") {
      style.fill = false;
      style.dashArray = spec.dash;
    } else if (spec.kind === "line") {
      style.fill = false;
      style.dashArray = spec.dash;
    }
    return style;
  }

  function basemapStyle(spec, feature) {
    var kind = (feature.properties && feature.properties.kind) || "province";
    var s = spec.kinds[kind] || spec.kinds.province;
    return {
      color: s.color,
      weight: s.weight,
      dashArray: s.dash,
      fill: s.fill !== false,
      fillColor: s.fill_color,
      fillOpacity: s.fill_opacity,
      interactive: false,
    };
  }

  function markerFor(spec, latlng) {
    var icon = L.AwesomeMarkers.icon({
      icon: spec.icon,
      prefix: "fa",
      markerColor: spec.marker_color,
      iconColor: "white",
    });
    return L.marker(latlng, { icon: icon });
  }

  /* The popup is fetched once, on first opening, and kept: Leaflet calls the content
   * function again on every update, so it hands back the same element each time. */
  function bindPopup(layer, id, options) {
    var box = null;
    layer.bindPopup(
      function () {
        if (box) return box;
        box = document.createElement("div");
        box.className = "xinqu-popup";
        box.appendChild(textElement(options.loadingText));
        var url = options.popupUrl.replace("__ID__", encodeURIComponent(id));
        var filled = box;
        fetch(url, { headers: { Accept: "text/html" } })
          .then(function (r) {
            if (!r.ok) throw new Error(r.status);
            return r.text();
          })
          .then(function (html) {
            filled.innerHTML = html; // escaped by the server's templates
          })
          .catch(function () {
            filled.textContent = "—";
            box = null; // try again next time
          })
          .finally(function () {
            var popup = layer.getPopup();
            if (popup && popup.isOpen()) popup.update();
          });
        return box;
      },
      { maxWidth: 380, minWidth: 240, maxHeight: 360 }
    );
  }

  function bindFeature(feature, layer, options) {
    var props = feature.properties || {};
    var label = nameOf(props, options.lang);
    if (isApproximate(feature)) label += " · " + options.spansText;
    layer.bindTooltip(textElement(label), { sticky: !layer.getLatLng });
    bindPopup(layer, props.id || feature.id, options);
    focusable(layer, label);
  }

  /* Keyboard: every feature a Tab stop named by its label (a screen reader reads the
   * name, not "button"), Enter or Space opens its popup; the focus ring is in labels.css.
   * Leaflet opens the tooltip on focus itself. */
  function focusable(layer, label) {
    layer.on("add", function () {
      var element = layer.getElement && layer.getElement();
      if (!element) return;
      element.setAttribute("tabindex", "0");
      element.setAttribute("role", "button");
      element.setAttribute("aria-label", label);
      if (element.xinquKeys) return;
      element.xinquKeys = true;
      element.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        layer.openPopup(layer.getLatLng ? layer.getLatLng() : layer.getCenter());
      });
    });
  }

  function coreStyle(spec) {
    return { radius: spec.core_radius, color: "#ffffff", weight: 1.5, opacity: 1,
             fillColor: spec.color, fillOpacity: 1 };
  }

  /* The core point of each approximate new area, drawn at its anchor. */
  function corePoints(group, spec, options) {
    group.eachLayer(function (layer) {
      var feature = layer.feature;
      if (!feature || !isApproximate(feature)) return;
      var p = feature.properties;
      if (p.anchor_lat == null || p.anchor_lon == null) return;
      var core = L.circleMarker([p.anchor_lat, p.anchor_lon], coreStyle(spec));
      core.xinquCore = true;
      core.feature = feature;
      var label = nameOf(p, options.lang) + " · " + options.coreText;
      core.bindTooltip(textElement(label));
      bindPopup(core, p.id || feature.id, options);
      focusable(core, label);
      group.addLayer(core);
    });
  }

  function load(group, url, after) {
    xinqu.loading += 1;
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
        return r.json();
      })
      .then(function (data) {
        group.addData(group.sortFeatures ? group.sortFeatures(data) : data);
        if (after) after();
        group.fire("xinqu:loaded");
      })
      .catch(function (error) {
        if (window.console) console.error(error);
      })
      .finally(function () {
        xinqu.loading -= 1;
      });
  }

  var MARKS = ["xinqu-named", "xinqu-via", "xinqu-out", "xinqu-in-region", "xinqu-region-on"];

  /* Draw every feature of a layer again: its own style from data/map_style.yaml, then
   * whatever the decorators (the planner views: filters, choropleth, regions) change.
   * A decorator may set style.marks, a list of CSS classes for the feature's element. */
  xinqu.restyle = function (id) {
    var group = xinqu.layers[id];
    if (!group || !group.xinquSpec || group.xinquSpec.kind === "basemap") return;
    var spec = group.xinquSpec;
    group.eachLayer(function (layer) {
      if (!layer.feature) return;
      var path = !!layer.setStyle;
      var style = path
        ? (layer.xinquCore ? coreStyle(spec) : styleFor(spec, layer.feature))
        : { opacity: 1 };
      style.marks = [];
      style.core = !!layer.xinquCore;
      for (var i = 0; i < xinqu.decorators.length; i++) {
        xinqu.decorators[i](id, layer, style);
      }
      var marks = style.marks, hidden = !!style.hidden;
      delete style.marks;
      delete style.core;
      delete style.hidden;
      if (path) {
        layer.setStyle(style);
      } else if (layer.setOpacity) {
        layer.setOpacity(style.opacity);
        layer.setZIndexOffset(marks.indexOf("xinqu-named") >= 0 ? 1000 : 0);
      }
      var element = layer.getElement && layer.getElement();
      if (element) {
        MARKS.forEach(function (m) { element.classList.toggle(m, marks.indexOf(m) >= 0); });
        element.style.pointerEvents = hidden ? "none" : "";
      }
    });
  };

  /* A map layer filled from url; spec comes from data/map_style.yaml. */
  xinqu.remoteLayer = function (map, id, url, spec, options) {
    xinqu.map = map;
    var group;
    if (spec.kind === "basemap") {
      group = L.geoJSON(null, {
        style: function (f) { return basemapStyle(spec, f); },
        // the cities' points are drawn by labels.js, a dot with its name where it fits
        filter: function (f) { return !f.geometry || f.geometry.type.indexOf("Point") < 0; },
        interactive: false,
      });
      if (spec.background) map.getContainer().style.background = spec.background;
      group.sortFeatures = function (data) {
        var order = spec.order || [];
        data.features.sort(function (a, b) {
          return order.indexOf(a.properties.kind) - order.indexOf(b.properties.kind);
        });
        return data;
      };
      load(group, url);
    } else {
      group = L.geoJSON(null, {
        style: function (f) { return styleFor(spec, f); },
        pointToLayer: function (f, latlng) {
          return spec.kind === "marker"
            ? markerFor(spec, latlng)
            : L.circleMarker(latlng, { radius: 6 });
        },
        onEachFeature: function (f, layer) { bindFeature(f, layer, options); },
      });
      load(group, url, function () {
        if (spec.kind === "area") corePoints(group, spec, options);
        if (options.fit && group.getLayers().length) {
          // small maps: fit everything loaded so far
          var bounds = group.getBounds();
          xinqu.bounds = xinqu.bounds ? xinqu.bounds.extend(bounds) : L.latLngBounds(bounds);
          map.fitBounds(xinqu.bounds, { maxZoom: options.maxZoom || 9, padding: [20, 20] });
        }
      });
    }
    group.xinquSpec = spec;
    group.on("add", function () { xinqu.restyle(id); });
    group.on("xinqu:loaded", function () { xinqu.restyle(id); });
    xinqu.layers[id] = group;
    return group;
  };
})();
