/* The full map's names, keyboard help and phone layout.
 *
 * Labels: the new areas at every zoom, other layers and the basemap's provinces and major
 * cities (a dot and its name) from the zooms data/map_style.yaml `labels` gives, in the
 * interface language; a place's short name where its layer's `short` says (on the phone
 * layout, or always). After every move,
 * zoom, resize or layer change they are laid out again, greedily in priority order: each
 * tries positions round its anchor at growing radii and takes the first that overlaps no
 * label already placed nor a control of the map and stays inside it (a leader line joins
 * a label set apart to its place); labels that may be left out also keep off the pins. Labels are text nodes, never HTML; they take no pointer events.
 *
 * Phone layout: the side panel folds behind a toggle button, and on a narrow screen the
 * layer control and the legend start folded, so neither covers much of the map.
 */
(function () {
  "use strict";

  var xinqu = (window.xinqu = window.xinqu || { layers: {}, loading: 0 });

  var DIRECTIONS = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [1, 1], [-1, -1], [-1, 1]];

  function stripper(spec, lang) {
    var pattern = spec && spec.strip && spec.strip[lang];
    return pattern ? new RegExp(pattern) : null;
  }

  var SUFFIX = { "zh-Hans": "zh_hans", "zh-Hant": "zh_hant", en: "en" };

  /* The text of a label: below the layer's full_from_zoom, the place's short name where
   * the layer uses it (`short`: "always", or "phone" on a narrow screen), else the name
   * less `strip`; the full name from full_from_zoom on. */
  function labelText(name, short, spec, lang, zoom, narrow) {
    if (spec.full_from_zoom != null && zoom >= spec.full_from_zoom) return name;
    if (short && (spec.short === "always" || (spec.short === "phone" && narrow))) return short;
    var strip = stripper(spec, lang);
    return (strip && name.replace(strip, "").trim()) || name;
  }

  /* Where a layer's feature is named: its anchor (polygons), its point, or the middle
   * of a line; null for features hidden by a filter. */
  function anchorOf(layer) {
    var p = layer.feature && layer.feature.properties;
    if (p && p.anchor_lat != null && p.anchor_lon != null) {
      return L.latLng(p.anchor_lat, p.anchor_lon);
    }
    if (layer.getLatLng) return layer.getLatLng();
    if (layer.getCenter && layer._map) {
      try { return layer.getCenter(); } catch (e) { return null; }
    }
    return null;
  }

  /* Every label the map would show at this zoom, in priority order. */
  function candidates(map, settings) {
    var zoom = map.getZoom(), lang = settings.lang, out = [];
    var narrow = !!(xinqu.narrow && xinqu.narrow.matches);
    var specs = settings.layers || {};
    Object.keys(specs).forEach(function (id) {
      var spec = specs[id], group = xinqu.layers[id];
      if (!group || !map.hasLayer(group) || zoom < (spec.min_zoom || 0)) return;
      group.eachLayer(function (layer) {
        if (!layer.feature || layer.xinquCore) return;
        var latlng = anchorOf(layer);
        if (!latlng) return;
        var props = layer.feature.properties;
        var name = xinqu.nameOf(props, lang), short = props["short_name_" + SUFFIX[lang]];
        var element = layer.getElement && layer.getElement();
        out.push({ layer: id, id: layer.feature.id || props.id,
                   text: labelText(name, short, spec, lang, zoom, narrow), full: name,
                   latlng: latlng,
                   priority: spec.priority || 9, always: !!spec.always,
                   reach: spec.max_radius_px,
                   // greyed by a planner filter: its label is greyed too
                   out: !!(element && element.classList.contains("xinqu-out")) });
      });
    });
    // the basemap's provinces (settings.basemap) and cities (settings.cities, with a dot)
    var basemap = xinqu.layers.basemap;
    if (basemap && map.hasLayer(basemap)) {
      (settings.places || []).forEach(function (place) {
        var city = place.kind === "city", base = city ? settings.cities : settings.basemap;
        if (!base || zoom < (base.min_zoom || 0)) return;
        out.push({ layer: city ? "city" : "basemap", id: place.code, full: place.name,
                   text: labelText(place.name, null, base, lang, zoom, narrow),
                   latlng: L.latLng(place.lat, place.lon), priority: base.priority || 9,
                   always: false, reach: base.max_radius_px,
                   dot: city ? base.dot_px || 5 : 0 });
      });
    }
    out.sort(function (a, b) { return a.priority - b.priority; }); // stable: list order
    return out;
  }

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  function overlapArea(a, b) {
    var w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    var h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    return w > 0 && h > 0 ? w * h : 0;
  }

  /* The box of a w×h label set r pixels from point p in direction d. */
  function boxAt(p, d, r, w, h) {
    var k = d[0] && d[1] ? Math.SQRT1_2 : 1;
    var cx = p.x + d[0] * r * k, cy = p.y + d[1] * r * k;
    var x = d[0] > 0 ? cx : d[0] < 0 ? cx - w : cx - w / 2;
    var y = d[1] > 0 ? cy : d[1] < 0 ? cy - h : cy - h / 2;
    return { x: x, y: y, w: w, h: h, r: r };
  }

  function inside(box, size, margin) {
    return box.x >= margin && box.y >= margin && box.x + box.w <= size.x - margin
      && box.y + box.h <= size.y - margin;
  }

  /* The point of the box nearest p: where a leader line ends. */
  function nearestOnBox(p, box) {
    return L.point(Math.max(box.x, Math.min(p.x, box.x + box.w)),
                   Math.max(box.y, Math.min(p.y, box.y + box.h)));
  }

  function leader(map, pane, from, to) {
    var a = map.containerPointToLayerPoint(from), b = map.containerPointToLayerPoint(to);
    var line = document.createElement("div");
    line.className = "xinqu-leader";
    line.style.left = a.x + "px";
    line.style.top = a.y + "px";
    line.style.width = a.distanceTo(b) + "px";
    line.style.transform = "rotate(" + Math.atan2(b.y - a.y, b.x - a.x) + "rad)";
    pane.appendChild(line);
  }

  /* The boxes (container pixels) of what labels must not cover: the map's controls
   * (legend, layer control, zoom) always; the markers' pins, for labels that may be
   * left out. */
  function obstacles(map, selector) {
    var origin = map.getContainer().getBoundingClientRect(), out = [];
    map.getContainer().querySelectorAll(selector).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (!r.width || !r.height) return;
      out.push({ x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height });
    });
    return out;
  }

  function cost(box, boxes) {
    var total = 0;
    for (var k = 0; k < boxes.length; k++) total += overlapArea(box, boxes[k]);
    return total;
  }

  function layout(map, pane, settings) {
    pane.textContent = "";
    var size = map.getSize(), margin = settings.margin_px || 0;
    var radii = settings.radii_px || [4, 12, 24, 40, 60];
    var placed = obstacles(map, ".leaflet-control");
    var pins = obstacles(map, ".leaflet-marker-pane > *");
    var count = 0, all = candidates(map, settings);
    function dotAt(label, p) {
      return label.dot ? { x: p.x - label.dot / 2, y: p.y - label.dot / 2,
                           w: label.dot, h: label.dot } : null;
    }
    // the cities' dots in view: from keep_clear_from_zoom, a label placed earlier keeps
    // off them where it can (at national zoom the new areas' names come first)
    var reserved = [], cities = settings.cities || {};
    if (map.getZoom() >= (cities.keep_clear_from_zoom || 0)) {
      all.forEach(function (label) {
        if (label.dot) reserved.push(dotAt(label, map.latLngToContainerPoint(label.latlng)));
      });
    }
    all.forEach(function (label) {
      var p = map.latLngToContainerPoint(label.latlng);
      if (p.x < 0 || p.y < 0 || p.x > size.x || p.y > size.y) return;
      // a city's dot: it must be free itself, and its name keeps off it
      var dot = dotAt(label, p);
      if (dot && (!inside(dot, size, margin) || cost(dot, placed) || cost(dot, pins))) return;
      var el = document.createElement("div");
      el.className = "xinqu-label xinqu-label-" + label.layer + (label.out ? " xinqu-label-out" : "");
      el.textContent = label.text;
      el.setAttribute("data-layer", label.layer);
      el.setAttribute("data-place", label.id);
      el.title = label.full;
      pane.appendChild(el);
      // the box as drawn (fractional pixels), with a pixel to spare on each side
      var rect = el.getBoundingClientRect();
      var w = Math.ceil(rect.width) + 2, h = Math.ceil(rect.height) + 2;
      // best: free and clear of every city's dot; spare: free but covering a dot, taken
      // when its ring (the first radius with a free position) has no better one, so a
      // label never moves further out for a dot; fallback: the least overlap (`always`)
      var best = null, spare = null, fallback = null, least = Infinity;
      for (var i = 0; i < radii.length && !best && !spare; i++) {
        if (label.reach != null && radii[i] > label.reach) break;
        for (var j = 0; j < DIRECTIONS.length; j++) {
          var box = boxAt(p, DIRECTIONS[j], radii[i], w, h);
          if (!inside(box, size, margin)) continue;
          var covered = cost(box, placed) + (dot ? overlapArea(box, dot) : 0);
          if (covered === 0 && (label.always || cost(box, pins) === 0)) {
            if (cost(box, reserved) === 0) { best = box; break; }
            if (!spare) spare = box;
          }
          if (covered < least) { least = covered; fallback = box; }
        }
      }
      if (!best) best = spare;
      if (!best && label.always) best = fallback;
      if (!best) { pane.removeChild(el); return; }
      placed.push(best);
      count += 1;
      if (dot) {
        placed.push(dot);
        var mark = document.createElement("div");
        mark.className = "xinqu-city-dot";
        mark.setAttribute("data-place", label.id);
        var corner = map.containerPointToLayerPoint([dot.x, dot.y]);
        mark.style.left = corner.x + "px";
        mark.style.top = corner.y + "px";
        mark.style.width = mark.style.height = label.dot + "px";
        pane.appendChild(mark);
      }
      var at = map.containerPointToLayerPoint([best.x + 1, best.y + 1]);
      el.style.left = at.x + "px";
      el.style.top = at.y + "px";
      if (best.r >= (settings.leader_from_px || 12)) leader(map, pane, p, nearestOnBox(p, best));
    });
    xinqu.labelCount = count;
  }

  /* Narrow screens: fold the layer control and the legend, and the panel behind its
   * toggle; the map then gets the whole width below the header. */
  function phoneLayout(map, settings, relayout) {
    var narrow = window.matchMedia("(max-width: " + (settings.phone_max_width_px || 800) + "px)");
    xinqu.narrow = narrow; // labels.js: short names on the phone layout
    var container = map.getContainer();
    var control = container.querySelector(".leaflet-control-layers");
    var legend = container.querySelector(".xinqu-legend-box");
    var page = document.querySelector(".xinqu-map-body");
    var toggle = document.getElementById("xinqu-panel-toggle");
    function fold(open) {
      if (!page || !toggle) return;
      page.classList.toggle("xinqu-panel-folded", !open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      map.invalidateSize();
    }
    if (toggle) {
      toggle.addEventListener("click", function () {
        fold(page.classList.contains("xinqu-panel-folded"));
      });
    }
    function apply() {
      if (narrow.matches) {
        if (control) control.classList.remove("leaflet-control-layers-expanded");
        if (legend) legend.open = false;
        fold(false);
      } else {
        if (control) control.classList.add("leaflet-control-layers-expanded");
        if (legend) legend.open = true;
        fold(true);
      }
      relayout(); // names switch between short and long forms
    }
    apply();
    if (narrow.addEventListener) narrow.addEventListener("change", apply);
    // the labels keep off the controls: lay them out again when one opens or folds
    if (legend) legend.addEventListener("toggle", relayout);
    if (control) {
      control.addEventListener("click", relayout);
      control.addEventListener("mouseleave", relayout);
    }
    // a tap on the map folds the opened layer control again (Leaflet does so only for
    // a control made collapsed)
    map.on("click", function () {
      if (narrow.matches && control) {
        control.classList.remove("leaflet-control-layers-expanded");
        relayout();
      }
    });
  }

  /* Called by the map's script (webapp.map.MapLabels) once its layers exist. */
  xinqu.labels = function (map, settings) {
    var pane = map.createPane("xinqu-labels");
    pane.setAttribute("aria-hidden", "true"); // the features themselves carry the names
    var pending = false;
    function schedule() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        layout(map, pane, settings);
      });
    }
    xinqu.layoutLabels = function () { layout(map, pane, settings); };
    map.on("zoomstart", function () { pane.classList.add("xinqu-moving"); });
    map.on("zoomend", function () { pane.classList.remove("xinqu-moving"); });
    map.on("moveend resize overlayadd overlayremove baselayerchange", schedule);
    Object.keys(xinqu.layers).forEach(function (id) {
      xinqu.layers[id].on("xinqu:loaded add remove", schedule);
    });
    // a planner view restyles features (filters grey some out): follow it
    var restyle = xinqu.restyle;
    xinqu.restyle = function (id) {
      restyle(id);
      schedule();
    };
    phoneLayout(map, settings, schedule);
    schedule();
  };
})();
