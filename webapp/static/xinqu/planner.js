/* xinqu planner views on the map: filters, search, choropleth, strategy regions, permalinks.
 *
 * The map's state lives in its URL (history.replaceState on every change), so the address
 * bar is always the permalink and opening it restores the same view: visible layers
 * (`layers`), filters (`unit`, `document`, `chapter`, `kind`), `view` (lat,lng,zoom),
 * `lang`, choropleth `mode` and strategy `region`. The figure links (#xinqu-figure) carry
 * the same state, the view as a bbox, to /map.png and /map.svg. Which places a filter selects comes from
 * the service (/map/selection, the same meaning of "linked" as the API's filters); class
 * breaks come from /choropleth. Everything the service sends goes into the page as text
 * nodes (textContent), never as HTML.
 */
(function () {
  "use strict";

  var xinqu = window.xinqu;
  var map = xinqu.map;
  var config = JSON.parse(document.getElementById("xinqu-config").textContent);
  var PS = xinqu.plannerStyle; // data/map_style.yaml `planner`
  var S = config.strings;
  var FILTERS = ["unit", "document", "chapter", "kind"];
  var STATE_PARAMS = FILTERS.concat(["region", "mode"]);
  var NAME_ORDER = config.version === "en"
    ? ["en", "zh-Hans", "zh-Hant"] : [config.version, "zh-Hans", "zh-Hant", "en"];

  var state = { unit: null, document: null, chapter: null, kind: null, region: null, mode: null };
  var planner = (xinqu.planner = {
    state: state, ready: false, pending: 0, options: null, selection: null, choropleth: null,
    messages: {},
  });
  var applied = false; // no URL writes until the link's own state is applied

  // --- small helpers ---------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else if (attrs[key] != null) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child == null) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] != null ? values[key] : all;
    });
  }

  function pick(names) {
    names = names || {};
    for (var i = 0; i < NAME_ORDER.length; i++) if (names[NAME_ORDER[i]]) return names[NAME_ORDER[i]];
    return "";
  }

  function short(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  }

  function href(template, id) {
    return template.replace("__ID__", encodeURIComponent(id).replace(/%3A/gi, ":"));
  }

  function query(params) {
    return Object.keys(params).filter(function (k) { return params[k] != null && params[k] !== ""; })
      .map(function (k) {
        return encodeURIComponent(k) + "=" +
          encodeURIComponent(params[k]).replace(/%3A/gi, ":").replace(/%2C/gi, ",");
      }).join("&");
  }

  /* JSON from the service; an error answer resolves too, as {ok: false, status, body}. */
  function getJSON(url) {
    planner.pending += 1;
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; },
          function () { return { ok: r.ok, status: r.status, body: {} }; });
      })
      .catch(function (error) {
        return { ok: false, status: 0, body: { description: String(error) } };
      })
      .finally(function () { planner.pending -= 1; });
  }

  function unitTitle(u) {
    return pick(u.title) || S["kind_" + u.kind] || u.kind || "";
  }

  function kindIds() {
    return Object.keys(xinqu.layers).filter(function (id) { return id !== "basemap"; });
  }

  function kindTitle(id) {
    var kinds = (planner.options && planner.options.kinds) || [];
    for (var i = 0; i < kinds.length; i++) if (kinds[i].id === id) return pick(kinds[i].title);
    return id;
  }

  // --- messages about the link's parameters ----------------------------------------------

  function warn(param, value, description) {
    planner.messages[param] = fmt(S.bad_param, { param: param, value: value, description: description });
    renderMessages();
  }

  function renderMessages() {
    var box = $("xinqu-message");
    box.textContent = "";
    var params = Object.keys(planner.messages);
    params.forEach(function (param) {
      box.appendChild(el("p", { "data-param": param, text: planner.messages[param] }));
    });
    if (params.length) {
      var close = el("button", { type: "button", className: "close", "aria-label": "×", text: "×" });
      close.addEventListener("click", function () { planner.messages = {}; renderMessages(); });
      box.insertBefore(close, box.firstChild);
    }
    box.hidden = !params.length;
  }

  // --- the URL: the permalink --------------------------------------------------------------

  function visibleLayers() {
    return kindIds().filter(function (id) { return map.hasLayer(xinqu.layers[id]); });
  }

  function permalink() {
    var params = new URLSearchParams(location.search);
    var out = {};
    params.forEach(function (value, key) {
      if (STATE_PARAMS.indexOf(key) < 0 && key !== "layers" && key !== "view") out[key] = value;
    });
    out.lang = config.lang;
    STATE_PARAMS.forEach(function (key) { out[key] = state[key]; });
    var visible = visibleLayers();
    if (visible.length !== kindIds().length) out.layers = visible.join(",") || "none";
    var c = map.getCenter();
    out.view = [c.lat.toFixed(4), c.lng.toFixed(4), map.getZoom()].join(",");
    return location.pathname + "?" + query(out);
  }

  /* The view as a CRS84 bbox (west,south,east,north), at least the span the images draw
   * (a closer view widens about its centre), within the world's bounds. */
  function viewBox() {
    var b = map.getBounds(), c = map.getCenter(), least = config.figureMinSpan || 0;
    var w = Math.max(b.getWest(), -180), e = Math.min(b.getEast(), 180);
    var s = Math.max(b.getSouth(), -90), n = Math.min(b.getNorth(), 90);
    if (Math.max(e - w, n - s) < least) {
      w = c.lng - least / 2; e = c.lng + least / 2;
    }
    return [w, s, e, n].map(function (v) { return v.toFixed(5); }).join(",");
  }

  /* /map.png or /map.svg of exactly what the map shows: its filters, region overlay,
   * shading, visible layers and view. */
  function figureURL(format) {
    var out = { lang: config.lang };
    STATE_PARAMS.forEach(function (key) { out[key] = state[key]; });
    out.layers = visibleLayers().join(",") || "none";
    out.bbox = viewBox();
    return config.urls.figure[format] + "?" + query(out);
  }

  function writeFigureLinks() {
    document.querySelectorAll("#xinqu-figure a[data-format]").forEach(function (a) {
      var format = a.getAttribute("data-format");
      a.setAttribute("href", figureURL(format)); // the file is named by the server
    });
  }

  function writeURL() {
    if (!applied) return;
    writeFigureLinks();
    var url = permalink();
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
    // the language switch keeps the map's state; the export menu exports what is shown
    document.querySelectorAll(".lang-switch[hreflang]").forEach(function (a) {
      a.setAttribute("href", url.replace(/([?&])lang=[^&]*/, "$1lang=" + a.getAttribute("hreflang")));
    });
    // every filter the menu carries that the map also has (the map has no bbox filter)
    document.querySelectorAll("[data-export-filter]").forEach(function (input) {
      var key = input.getAttribute("data-export-filter");
      if (key in state) input.value = state[key] == null ? "" : String(state[key]);
    });
  }

  /* Layers and view: known without asking the service, so applied at once. */
  function applyLayersAndView(params) {
    var ids = kindIds();
    if (params.has("layers")) {
      var raw = params.get("layers");
      var wanted = raw === "none" ? [] : raw.split(",").map(function (s) { return s.trim(); })
        .filter(Boolean);
      var unknown = wanted.filter(function (id) { return ids.indexOf(id) < 0; });
      if (unknown.length) warn("layers", raw, "unknown: " + unknown.join(", "));
      if (!wanted.length || unknown.length < wanted.length) {
        ids.forEach(function (id) {
          var on = wanted.indexOf(id) >= 0;
          if (on && !map.hasLayer(xinqu.layers[id])) map.addLayer(xinqu.layers[id]);
          if (!on && map.hasLayer(xinqu.layers[id])) map.removeLayer(xinqu.layers[id]);
        });
      }
    }
    if (params.has("view")) {
      var raw = params.get("view");
      var v = raw.split(",").map(Number);
      var zooms = PS.zoom_range;
      var ok = v.length === 3 && v.every(isFinite) && Math.abs(v[0]) <= 90 &&
        Math.abs(v[1]) <= 180 && v[2] >= zooms[0] && v[2] <= zooms[1];
      if (ok) map.setView([v[0], v[1]], Math.round(v[2]), { animate: false });
      else warn("view", raw, "expected lat,lng,zoom (zoom " + zooms[0] + "–" + zooms[1] + ")");
    }
  }

  // --- options and controls ----------------------------------------------------------------

  function fillSelect(select, entries, keepFirst) {
    while (select.options.length > keepFirst) select.remove(keepFirst);
    entries.forEach(function (e) { select.appendChild(el("option", { value: e[0], text: e[1] })); });
  }

  function unitsInScope() {
    return planner.options.units.filter(function (u) {
      return (!state.document || u.document === state.document) &&
        (state.chapter == null || String(u.chapter_number) === String(state.chapter));
    });
  }

  function renderControls() {
    var o = planner.options;
    if (!o) return;
    var chapters = o.chapters.filter(function (c) { return c.document === state.document; });
    fillSelect($("xinqu-chapter"), chapters.map(function (c) {
      var title = pick(c.title);
      return [String(c.number), fmt(S.chapter_n, { n: c.number }) + (title ? " " + title : "")];
    }), 1);
    $("xinqu-chapter").disabled = !chapters.length;
    fillSelect($("xinqu-unit"), unitsInScope().map(function (u) {
      return [u.id, short(u.id + "  " + unitTitle(u), 72)];
    }), 1);
    $("xinqu-document").value = state.document || "";
    $("xinqu-chapter").value = state.chapter != null ? String(state.chapter) : "";
    $("xinqu-unit").value = state.unit || "";
    $("xinqu-kind").value = state.kind || "";
    $("xinqu-region").value = state.region || "";
    document.querySelectorAll('#xinqu-mode input[name="mode"]').forEach(function (input) {
      input.checked = input.value === (state.mode || "");
    });
  }

  function setupControls() {
    var o = planner.options;
    fillSelect($("xinqu-document"), o.documents.map(function (d) {
      return [d.id, short(pick(d.title), 60)];
    }), 1);
    fillSelect($("xinqu-kind"), o.kinds.map(function (k) { return [k.id, pick(k.title)]; }), 1);
    fillSelect($("xinqu-region"), o.regions.map(function (r) { return [r.id, pick(r.names)]; }), 2);

    $("xinqu-document").addEventListener("change", function (e) {
      state.document = e.target.value || null;
      state.chapter = null;
      if (state.unit && unitOf(state.unit).document !== state.document && state.document) state.unit = null;
      refreshFilter();
    });
    $("xinqu-chapter").addEventListener("change", function (e) {
      state.chapter = e.target.value || null;
      if (state.unit && state.chapter != null &&
          String(unitOf(state.unit).chapter_number) !== String(state.chapter)) state.unit = null;
      refreshFilter();
    });
    $("xinqu-unit").addEventListener("change", function (e) {
      state.unit = e.target.value || null;
      refreshFilter();
    });
    $("xinqu-kind").addEventListener("change", function (e) {
      state.kind = e.target.value || null;
      if (state.kind) show(state.kind);
      refreshFilter();
    });
    $("xinqu-clear").addEventListener("click", function () {
      FILTERS.forEach(function (key) { state[key] = null; });
      refreshFilter();
    });
    $("xinqu-region").addEventListener("change", function (e) {
      state.region = e.target.value || null;
      if (state.region) show("strategy-regions");
      refreshRegion();
      fitTo(regionsShown().map(function (r) { return ["strategy-regions", r.id]; }));
    });
    document.querySelectorAll('#xinqu-mode input[name="mode"]').forEach(function (input) {
      input.addEventListener("change", function () {
        if (!input.checked) return;
        state.mode = input.value || null;
        if (state.mode) show("new-areas");
        refreshChoropleth();
      });
    });
    $("xinqu-copy").addEventListener("click", copyLink);
    $("xinqu-search").addEventListener("submit", function (e) {
      e.preventDefault();
      runSearch($("xinqu-q").value);
    });
    var timer = null;
    $("xinqu-q").addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { runSearch($("xinqu-q").value); }, 250);
    });
  }

  function unitOf(id) {
    var units = planner.options.units;
    for (var i = 0; i < units.length; i++) if (units[i].id === id) return units[i];
    return { id: id, document: null, chapter_number: null, title: {}, kind: "" };
  }

  function show(layerId) {
    var group = xinqu.layers[layerId];
    if (group && !map.hasLayer(group)) map.addLayer(group);
  }

  // --- filter: what the service says the chosen units select -------------------------------

  function hasFilter() {
    return FILTERS.some(function (key) { return state[key] != null; });
  }

  /* Ask for the selection; a parameter the service refuses is named, dropped and asked again. */
  function refreshFilter(tries) {
    tries = tries || 0;
    renderControls();
    if (!hasFilter()) {
      planner.selection = null;
      renderResults();
      restyleAll();
      writeURL();
      return Promise.resolve();
    }
    var params = {};
    FILTERS.forEach(function (key) { params[key] = state[key]; });
    return getJSON(config.urls.selection + "?" + query(params)).then(function (answer) {
      if (!answer.ok) {
        var param = answer.body.parameter || (answer.body.kind === "unit" ? "unit" : null);
        if (param && FILTERS.indexOf(param) >= 0 && tries < FILTERS.length) {
          warn(param, state[param], answer.body.description || answer.status);
          state[param] = null;
          if (param === "document") state.chapter = null;
          return refreshFilter(tries + 1);
        }
        planner.selection = null;
        warn("filter", query(params), answer.body.description || S.failed);
      } else {
        planner.selection = answer.body;
      }
      renderControls();
      renderResults();
      restyleAll();
      writeURL();
    });
  }

  function selectionTitle() {
    var parts = [];
    if (state.document) {
      var d = planner.options.documents.filter(function (x) { return x.id === state.document; })[0];
      parts.push(d ? pick(d.title) : state.document);
    }
    if (state.chapter != null) parts.push(fmt(S.chapter_n, { n: state.chapter }));
    if (state.unit) parts.push(state.unit);
    if (state.kind) parts.push(kindTitle(state.kind));
    return parts.join(" · ");
  }

  function placeButton(layer, place) {
    var b = el("button", { type: "button", className: "place " + place.relation,
                           "data-place": place.id, "data-relation": place.relation,
                           title: kindTitle(layer), text: pick(place.names) || place.id });
    b.addEventListener("click", function () { zoomTo(layer, place.id); });
    return b;
  }

  function unitItem(u, placesCount) {
    var filterButton = el("button", { type: "button", className: "on-map", text: S.show_on_map });
    filterButton.addEventListener("click", function () {
      FILTERS.forEach(function (key) { state[key] = null; });
      state.unit = u.id;
      refreshFilter();
    });
    return el("li", { "data-unit": u.id }, [
      el("a", { href: href(config.urls.unit, u.id) }, [el("code", { text: u.id })]), " ",
      el("span", { className: "title", text: unitTitle(u) }), " ",
      placesCount != null ? el("span", { className: "count",
                                         text: fmt(S.places_n, { n: placesCount }) }) : null,
      " ", filterButton,
    ]);
  }

  function renderResults() {
    var box = $("xinqu-results");
    box.textContent = "";
    var sel = planner.selection;
    if (!sel) {
      box.appendChild(el("p", { className: "hint", text: S.no_filter_hint }));
      return;
    }
    box.appendChild(el("h2", { text: S.selection_title }));
    box.appendChild(el("p", { className: "scope", text: selectionTitle() }));
    box.appendChild(el("p", { className: "counts",
                              text: fmt(S.places_selected, sel.counts) }));
    var pairs = [];
    Object.keys(sel.places).forEach(function (layer) {
      sel.places[layer].forEach(function (place) { pairs.push([layer, place.id]); });
    });
    if (pairs.length) {
      var fit = el("button", { type: "button", className: "fit", text: S.zoom_to_selection });
      fit.addEventListener("click", function () {
        pairs.forEach(function (pair) { show(pair[0]); });
        fitTo(pairs);
      });
      box.appendChild(fit);
    }
    var chips = el("div", { className: "xinqu-places" });
    Object.keys(sel.places).forEach(function (layer) {
      sel.places[layer].forEach(function (place) { chips.appendChild(placeButton(layer, place)); });
    });
    box.appendChild(chips);
    box.appendChild(el("h3", { text: fmt(S.units_count, { n: sel.numberMatched }) }));
    if (!sel.units.length) box.appendChild(el("p", { text: S.no_units }));
    var list = el("ol", { className: "xinqu-unit-list" });
    sel.units.forEach(function (u) { list.appendChild(unitItem(u, u.places.length)); });
    box.appendChild(list);
  }

  // --- strategy regions --------------------------------------------------------------------

  function regionsShown() {
    var regions = (planner.options && planner.options.regions) || [];
    if (!state.region) return [];
    return regions.filter(function (r) { return state.region === "all" || r.id === state.region; });
  }

  function refreshRegion() {
    var regions = planner.options.regions;
    if (state.region && state.region !== "all" &&
        !regions.some(function (r) { return r.id === state.region; })) {
      warn("region", state.region, "one of all, " + regions.map(function (r) { return r.id; }).join(", "));
      state.region = null;
    }
    renderControls();
    renderRegion();
    restyleAll();
    writeURL();
  }

  function renderRegion() {
    var box = $("xinqu-region-info");
    box.textContent = "";
    var shown = regionsShown();
    box.hidden = !shown.length;
    shown.forEach(function (r) {
      var section = el("div", { className: "region", "data-region": r.id });
      var title = el("button", { type: "button", className: "region-name", text: pick(r.names) });
      title.addEventListener("click", function () { zoomTo("strategy-regions", r.id); });
      section.appendChild(el("h3", {}, [title]));
      var inside = el("p", { className: "inside" }, [S.region_inside + ": "]);
      if (!r.inside.length) inside.appendChild(document.createTextNode(S.none));
      r.inside.forEach(function (area) {
        inside.appendChild(placeButton("new-areas", { id: area.id, relation: "in-region",
                                                      names: area.names }));
      });
      section.appendChild(inside);
      if (r.touching.length) {
        var touching = el("p", { className: "touching" }, [S.region_touching + ": "]);
        r.touching.forEach(function (area) {
          touching.appendChild(placeButton("new-areas", { id: area.id, relation: "touching",
                                                          names: area.names }));
        });
        section.appendChild(touching);
      }
      section.appendChild(el("h4", { text: S.region_units + " (" + r.units.length + ")" }));
      var list = el("ol", { className: "xinqu-unit-list" });
      r.units.forEach(function (id) { list.appendChild(unitItem(unitOf(id), null)); });
      section.appendChild(list);
      box.appendChild(section);
    });
  }

  // --- choropleth --------------------------------------------------------------------------

  var legend = null;

  function refreshChoropleth() {
    renderControls();
    if (!state.mode) {
      planner.choropleth = null;
      renderLegend();
      restyleAll();
      writeURL();
      return Promise.resolve();
    }
    var mode = state.mode;
    return getJSON(config.urls.choropleth + "?" + query({ mode: mode })).then(function (answer) {
      if (mode !== state.mode) return;
      if (!answer.ok) {
        warn("mode", mode, answer.body.description || S.failed);
        state.mode = null;
        planner.choropleth = null;
      } else {
        var data = answer.body;
        data.byId = {};
        data.areas.forEach(function (a) { data.byId[a.id] = a; });
        planner.choropleth = data;
      }
      renderControls();
      renderLegend();
      restyleAll();
      writeURL();
    });
  }

  var dots = null;

  /* In the choropleth, exact new areas get a dot of their class colour at their anchor, as
   * approximate ones have their core point: at national scale most polygons are specks. */
  function renderDots() {
    if (dots) { map.removeLayer(dots); dots = null; }
    var data = planner.choropleth, areas = xinqu.layers["new-areas"];
    if (!data || !areas || !map.hasLayer(areas)) return;
    dots = L.layerGroup();
    areas.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (!p || l.xinquCore || p.extent === "approximate" || p.anchor_lat == null) return;
      var area = data.byId[featureId(l)];
      if (!area) return;
      var out = planner.selection && !(planner.relations["new-areas"] || {})[area.id];
      var dot = L.circleMarker([p.anchor_lat, p.anchor_lon], {
        radius: PS.choropleth.dot_radius, weight: 1, fillOpacity: 1,
        color: out ? PS.out.color : PS.choropleth.dot_color,
        fillColor: out ? PS.out.fill_color : area.color, className: "xinqu-choropleth-dot",
      });
      dot.bindTooltip(el("span", { text: pick({ "zh-Hans": p.name_zh_hans,
                                                "zh-Hant": p.name_zh_hant, en: p.name_en }) +
                                          " · " + area.count }));
      dot.on("click", function () { l.openPopup(); });
      dots.addLayer(dot);
    });
    dots.addTo(map);
  }

  function renderLegend() {
    if (legend) { legend.remove(); legend = null; }
    var data = planner.choropleth;
    if (!data) return;
    legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "xinqu-legend xinqu-choropleth-legend");
      div.setAttribute("data-mode", data.mode);
      div.appendChild(el("h4", { text: S["choropleth_legend_" + data.mode] }));
      data.classes.forEach(function (c) {
        var range = c.lower === c.upper ? String(c.upper) : c.lower + "–" + c.upper;
        var swatch = el("span", { className: "swatch" });
        swatch.style.background = c.color;
        div.appendChild(el("div", {
          className: "xinqu-row xinqu-class", "data-class": c["class"], "data-lower": c.lower,
          "data-upper": c.upper, "data-color": c.color,
        }, [swatch, el("span", { className: "range", text: range }),
            el("span", { className: "areas",
                         text: fmt(c.areas === 1 ? S.legend_area_one : S.legend_areas,
                                   { n: c.areas }) })]));
      });
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
  }

  // --- drawing: the decorator map.js applies to every feature ------------------------------


  function featureId(layer) {
    var f = layer.feature;
    return (f.properties && f.properties.id) || f.id;
  }

  function decorate(layerId, layer, style) {
    var id = featureId(layer);
    var marker = !layer.setStyle;
    var choro = planner.choropleth;
    if (choro && layerId === "new-areas" && choro.byId[id]) {
      var area = choro.byId[id];
      style.fillColor = area.color;
      if (style.core) { // a legible dot of colour where the polygon is small
        style.radius = PS.choropleth.dot_radius;
        style.color = PS.choropleth.dot_color;
        style.weight = 1;
      } else {
        var approximate = layer.feature.properties.extent === "approximate";
        style.fillOpacity = approximate ? PS.choropleth.approximate_fill_opacity
                                        : PS.choropleth.fill_opacity;
        style.color = PS.choropleth.color;
        style.weight = PS.choropleth.weight;
      }
    }
    if (choro && marker) style.opacity = PS.choropleth.marker_opacity; // give way to the shading
    var sel = planner.selection;
    if (sel) {
      var relation = planner.relations[layerId] && planner.relations[layerId][id];
      if (relation === "named") {
        style.marks.push("xinqu-named");
        if (marker) style.opacity = 1;
        else if (!style.core) style.weight = (style.weight || 1) + PS.named.weight_add;
      } else if (relation === "via") {
        style.marks.push("xinqu-via");
        if (marker) style.opacity = PS.via.marker_opacity;
        else if (!style.core) {
          style.weight = (style.weight || 1) + PS.via.weight_add;
          style.dashArray = PS.via.dash;
        }
      } else {
        style.marks.push("xinqu-out");
        if (marker) style.opacity = PS.out.marker_opacity;
        else {
          style.color = PS.out.color;
          style.fillColor = PS.out.fill_color;
          style.opacity = PS.out.opacity;
          style.fillOpacity = Math.min(style.fillOpacity == null ? 0 : style.fillOpacity,
                                       style.core ? PS.out.core_fill_opacity : PS.out.fill_opacity);
        }
      }
    }
    if (state.region && planner.options) {
      var shown = regionsShown();
      if (layerId === "strategy-regions") {
        if (shown.some(function (r) { return r.id === id; })) {
          // a region asked for is drawn in its own colour, whatever a filter greys
          var own = xinqu.layers[layerId].xinquSpec.color;
          style.marks = style.marks.filter(function (m) { return m !== "xinqu-out"; });
          style.marks.push("xinqu-region-on");
          style.color = style.fillColor = own;
          style.weight = PS.region.weight;
          style.opacity = PS.region.opacity;
          style.fillOpacity = PS.region.fill_opacity;
        } else {
          style.opacity = 0;
          style.fillOpacity = 0;
          style.hidden = true;
        }
      } else if (layerId === "new-areas" && shown.some(function (r) {
        return r.inside.some(function (a) { return a.id === id; });
      })) {
        style.marks.push("xinqu-in-region");
        if (!style.core) {
          style.color = PS.region.inside_color;
          style.weight = Math.max(style.weight || 1, PS.region.inside_weight);
          style.opacity = 1;
        }
      }
    }
  }

  function restyleAll() {
    planner.relations = {};
    var sel = planner.selection;
    if (sel) {
      Object.keys(sel.places).forEach(function (layer) {
        var byId = (planner.relations[layer] = {});
        sel.places[layer].forEach(function (p) { byId[p.id] = p.relation; });
      });
    }
    kindIds().forEach(function (id) { xinqu.restyle(id); });
    renderDots();
  }

  // --- zooming to a place ------------------------------------------------------------------

  function featureLayer(layerId, id) {
    var group = xinqu.layers[layerId], found = null;
    if (!group) return null;
    group.eachLayer(function (l) {
      if (!found && l.feature && !l.xinquCore && featureId(l) === id) found = l;
    });
    return found;
  }

  /* Fit the map to some places ([layer id, place id] pairs) that are loaded. */
  function fitTo(places) {
    var bounds = null;
    places.forEach(function (pair) {
      var l = featureLayer(pair[0], pair[1]);
      if (!l) return;
      var b = l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng()]);
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: PS.fit_max_zoom, padding: [30, 30], animate: false });
    }
  }

  function zoomTo(layerId, id) {
    show(layerId);
    var group = xinqu.layers[layerId];
    var target = featureLayer(layerId, id);
    if (!target && group && group.xinquInView) {
      moveToFetched(layerId, id);
      return;
    }
    if (!target) {
      group && group.once("xinqu:loaded", function () {
        if (featureLayer(layerId, id)) zoomTo(layerId, id);
      });
      return;
    }
    if (target.getBounds) {
      map.fitBounds(target.getBounds(), { maxZoom: PS.fit_max_zoom, padding: [30, 30],
                                          animate: false });
    } else {
      map.setView(target.getLatLng(), Math.max(map.getZoom(), PS.fit_max_zoom - 1),
                  { animate: false });
    }
    if (target.openPopup) target.openPopup();
  }

  /* A layer that loads what is in view (map.js) holds only the view's features: move the
   * map to the place, fetched on its own, and zoom to it once the view's reload brings it. */
  function moveToFetched(layerId, id) {
    var group = xinqu.layers[layerId], loads = 0;
    function arrived() {
      loads += 1;
      if (featureLayer(layerId, id) || loads >= 3) group.off("xinqu:loaded", arrived);
      if (featureLayer(layerId, id)) zoomTo(layerId, id);
    }
    xinqu.fetchFeature(layerId, id).then(function (feature) {
      if (!feature || !feature.geometry) return;
      group.on("xinqu:loaded", arrived);
      var bounds = L.geoJSON(feature).getBounds();
      map.fitBounds(bounds, { maxZoom: PS.fit_max_zoom, padding: [30, 30], animate: false });
    }).catch(function (error) {
      if (window.console) console.error(error);
    });
  }

  // --- search ------------------------------------------------------------------------------

  var searchSerial = 0;

  function runSearch(text) {
    var box = $("xinqu-search-results");
    text = (text || "").trim();
    var serial = ++searchSerial;
    if (!text) {
      box.textContent = "";
      box.hidden = true;
      return Promise.resolve();
    }
    return getJSON(config.urls.search + "?" + query({ q: text, lang: config.lang }))
      .then(function (answer) {
        if (serial !== searchSerial) return;
        box.textContent = "";
        box.hidden = false;
        if (!answer.ok) {
          box.appendChild(el("p", { className: "none", text: answer.body.description || S.failed }));
          return;
        }
        renderSearch(box, answer.body);
      });
  }

  function resultButton(text, detail, onClick, attrs) {
    var b = el("button", Object.assign({ type: "button" }, attrs || {}), [
      el("span", { className: "name", text: text }),
      detail ? el("span", { className: "detail", text: detail }) : null,
    ]);
    b.addEventListener("click", onClick);
    return el("li", {}, [b]);
  }

  function renderSearch(box, found) {
    var total = found.places.length + found.units.length + found.kinds.length + found.documents.length;
    if (!total) {
      box.appendChild(el("p", { className: "none", text: S.search_none }));
      return;
    }
    function group(title, entries) {
      if (!entries.length) return;
      box.appendChild(el("h3", { text: title }));
      box.appendChild(el("ul", {}, entries));
    }
    group(S.search_kinds, found.kinds.map(function (k) {
      return resultButton(pick(k.title), "", function () {
        FILTERS.forEach(function (key) { state[key] = null; });
        state.kind = k.id;
        show(k.id);
        refreshFilter();
      }, { "data-kind": k.id });
    }));
    group(S.search_documents, found.documents.map(function (d) {
      return resultButton(pick(d.title), d.id, function () {
        FILTERS.forEach(function (key) { state[key] = null; });
        state.document = d.id;
        refreshFilter();
      }, { "data-document": d.id });
    }));
    group(S.search_places, found.places.map(function (p) {
      var name = pick(p.names);
      var detail = kindTitle(p.layer) + (p.match && p.match !== name ? " · " + p.match : "");
      return resultButton(name, detail, function () { zoomTo(p.layer, p.id); },
                          { "data-place": p.id });
    }));
    group(S.search_units, found.units.map(function (u) {
      return resultButton(u.id, unitTitle(u), function () {
        FILTERS.forEach(function (key) { state[key] = null; });
        state.unit = u.id;
        refreshFilter();
      }, { "data-unit": u.id });
    }));
  }

  // --- the copy-link control ---------------------------------------------------------------

  function copyLink() {
    writeURL();
    var link = location.href;
    var field = $("xinqu-link"), status = $("xinqu-copy-status");
    field.value = link;
    field.hidden = false; // always there to select by hand, whatever the clipboard does
    field.focus();
    field.select();
    var done = function () { status.textContent = S.copied; };
    var manual = function () { status.textContent = S.copy_manually; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(link).then(done, manual);
    }
    manual();
    return Promise.resolve();
  }

  // --- start -------------------------------------------------------------------------------

  xinqu.decorators.push(decorate);
  var params = new URLSearchParams(location.search);
  applyLayersAndView(params);
  FILTERS.forEach(function (key) { state[key] = params.get(key) || null; });
  state.region = params.get("region") || null;
  state.mode = params.get("mode") || null;
  map.on("moveend overlayadd overlayremove", function () { writeURL(); });
  map.on("overlayadd overlayremove", function (e) {
    if (e.layer === xinqu.layers["new-areas"]) renderDots();
  });
  if (xinqu.layers["new-areas"]) xinqu.layers["new-areas"].on("xinqu:loaded", renderDots);

  getJSON(config.urls.options).then(function (answer) {
    if (!answer.ok) {
      warn("options", config.urls.options, answer.body.description || S.failed);
      return;
    }
    planner.options = answer.body;
    setupControls();
    return Promise.all([refreshFilter(), refreshChoropleth()]).then(refreshRegion);
  }).finally(function () {
    applied = true;
    writeURL();
    planner.ready = true;
  });
})();
