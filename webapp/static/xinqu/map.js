/* xinqu map layers: GeoJSON fetched from the service's own API, styled per layer.
 *
 * Every layer is an L.GeoJSON filled asynchronously from a URL (the page itself carries
 * no geometry). A layer whose answer is not whole (numberMatched above numberReturned:
 * more features than one page) loads what is in view instead, and the map says when a
 * view holds more than a page (`loadInView`). Names go into tooltips as text nodes, never
 * as HTML; popups are HTML fragments rendered (and escaped) by the server, fetched when a
 * popup opens.
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

  /* The core point of each approximate new area, drawn at its anchor (once: a layer that
   * loads what is in view keeps the cores of the features it keeps). */
  function corePoints(group, spec, options) {
    var cored = {};
    group.eachLayer(function (layer) {
      if (layer.xinquCore) cored[featureKey(layer.feature)] = true;
    });
    group.eachLayer(function (layer) {
      var feature = layer.feature;
      if (!feature || layer.xinquCore || !isApproximate(feature)) return;
      if (cored[featureKey(feature)]) return;
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

  function featureKey(feature) {
    return feature.id != null ? feature.id : (feature.properties || {}).id;
  }

  function getJSON(url, signal) {
    return fetch(url, { headers: { Accept: "application/geo+json" }, signal: signal })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
        return r.json();
      });
  }

  /* Whether an items answer holds every feature that matched (an answer without the
   * counts, the basemap or one feature, is whole). */
  function complete(data) {
    return data.numberMatched == null || data.numberReturned == null
      || data.numberReturned >= data.numberMatched;
  }

  /* Fill a layer from url. A layer whose answer is not whole (bigger than a page) is not
   * drawn from it: `partial` switches it to loading what is in view. */
  function load(group, url, after, partial) {
    xinqu.loading += 1;
    return getJSON(url)
      .then(function (data) {
        if (partial && !complete(data)) {
          partial(data);
          return;
        }
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

  /* A longitude in -180..180 (a view panned onto another copy of the world). */
  function wrapLon(x) {
    return x >= -180 && x <= 180 ? x : ((x + 180) % 360 + 360) % 360 - 180;
  }

  /* The map's view as the API's bbox, rounded outwards to 1e-4°, latitudes clamped to
   * -90..90, longitudes to -180..180 (a view wider than the world is all of it; one across
   * the antimeridian comes out west > east, which the API reads as two boxes). */
  function viewBbox(map) {
    var b = map.getBounds(), q = 1e4;
    var west = Math.floor(b.getWest() * q) / q, east = Math.ceil(b.getEast() * q) / q;
    var south = Math.max(-90, Math.floor(b.getSouth() * q) / q);
    var north = Math.min(90, Math.ceil(b.getNorth() * q) / q);
    if (east - west >= 360) {
      west = -180;
      east = 180;
    } else {
      west = wrapLon(west);
      east = wrapLon(east);
    }
    return [west, south, east, north].join(",");
  }

  /* The layer's own URL (its filters, page size and display copy kept) with bbox. */
  function withBbox(url, bbox) {
    var u = new URL(url, window.location.href);
    u.searchParams.set("bbox", bbox);
    u.searchParams.delete("offset");
    return u.pathname + u.search;
  }

  /* Put a view's features in a layer: those already drawn stay (with their open popup,
   * focus and planner marks), the others go, the new ones are added. A changed store
   * (another timeStamp) replaces all. */
  function replaceFeatures(group, data, whole) {
    if (whole) {
      group.clearLayers();
      group.addData(data);
      return;
    }
    var wanted = {}, drawn = {}, gone = [];
    data.features.forEach(function (f) { wanted[featureKey(f)] = true; });
    group.eachLayer(function (layer) {
      var key = layer.feature ? featureKey(layer.feature) : null;
      if (key == null || !wanted[key]) gone.push(layer);
      else if (!layer.xinquCore) drawn[key] = true;
    });
    gone.forEach(function (layer) { group.removeLayer(layer); });
    group.addData({ type: "FeatureCollection",
                    features: data.features.filter(function (f) { return !drawn[featureKey(f)]; }) });
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  /* The map's notice of layers that show less than a view holds: one line per layer, as
   * text, in a status region (read out when it changes); hidden while it has no line. */
  function notice(map) {
    if (map.xinquNotice) return map.xinquNotice;
    var lines = {}, box = L.DomUtil.create("div", "xinqu-partial");
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    box.hidden = true;
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () { return box; };
    control.addTo(map);
    map.xinquNotice = {
      element: box,
      set: function (id, text) {
        if (text) lines[id] = text;
        else delete lines[id];
        box.textContent = "";
        Object.keys(lines).sort().forEach(function (key) {
          var line = document.createElement("div");
          line.dataset.layer = key;
          line.textContent = lines[key];
          box.appendChild(line);
        });
        box.hidden = !box.firstChild;
      },
    };
    return map.xinquNotice;
  }

  /* A layer bigger than one page holds what is in view: after the map stops moving (and
   * `options.viewDelay` ms more) it asks again with the view's bbox, aborting the request
   * still under way, and puts the answer in; while the view holds more than a page the
   * notice says how much is shown. Each reload fires `xinqu:loaded` (restyle, labels, the
   * planner). xinqu.loading counts the layer from the move until its answer is in. */
  function loadInView(map, id, group, url, after, options) {
    var timer = null, controller = null, busy = false, stamp = null;
    var numbers = new Intl.NumberFormat(options.lang);
    function settle(on) {
      if (on === busy) return;
      busy = on;
      xinqu.loading += on ? 1 : -1;
    }
    function stop() {
      if (controller) controller.abort();
      controller = null;
      clearTimeout(timer);
      timer = null;
    }
    function reload() {
      timer = null;
      var mine = (controller = new AbortController());
      getJSON(withBbox(url, viewBbox(map)), mine.signal)
        .then(function (data) {
          if (mine !== controller) return;
          replaceFeatures(group, data, stamp !== null && stamp !== data.timeStamp);
          stamp = data.timeStamp;
          if (after) after();
          notice(map).set(id, complete(data) ? null : format(options.partialText || "", {
            layer: options.title || id, n: numbers.format(data.numberReturned),
            total: numbers.format(data.numberMatched) }));
          group.fire("xinqu:loaded");
        })
        .catch(function (error) {
          if (error.name !== "AbortError" && window.console) console.error(error);
        })
        .finally(function () {
          if (mine !== controller) return;
          controller = null;
          if (!timer) settle(false);
        });
    }
    function schedule(wait) {
      stop();
      if (!map.hasLayer(group)) {
        settle(false);
        return;
      }
      settle(true);
      timer = setTimeout(reload, wait);
    }
    group.xinquInView = true;
    map.on("moveend", function () { schedule(options.viewDelay || 0); });
    group.on("add", function () { schedule(0); });
    group.on("remove", function () {
      stop();
      settle(false);
      notice(map).set(id, null);
    });
    schedule(0);
  }

  /* One feature of a layer, fetched on its own (a layer that loads what is in view may not
   * hold it): a Promise of the GeoJSON feature, null when the layer has no items URL. */
  xinqu.fetchFeature = function (id, featureId) {
    var group = xinqu.layers[id];
    var u = group && group.xinquUrl && new URL(group.xinquUrl, window.location.href);
    if (!u || !/\/items$/.test(u.pathname)) return Promise.resolve(null);
    return getJSON(u.pathname + "/" + encodeURIComponent(featureId) + "?f=json&display=1");
  };

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
      var fitted = false;
      var after = function () {
        if (spec.kind === "area") corePoints(group, spec, options);
        if (options.fit && !fitted && group.getLayers().length) {
          // small maps: fit everything loaded so far (once: a layer loading what is in
          // view reloads when the map moves)
          fitted = true;
          var bounds = group.getBounds();
          xinqu.bounds = xinqu.bounds ? xinqu.bounds.extend(bounds) : L.latLngBounds(bounds);
          map.fitBounds(xinqu.bounds, { maxZoom: options.maxZoom || 9, padding: [20, 20] });
        }
      };
      load(group, url, after, function () {
        loadInView(map, id, group, url, after, options);
      });
    }
    group.xinquSpec = spec;
    group.xinquUrl = url;
    group.on("add", function () { xinqu.restyle(id); });
    group.on("xinqu:loaded", function () { xinqu.restyle(id); });
    xinqu.layers[id] = group;
    return group;
  };
})();
