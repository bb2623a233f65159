/* The portal map: every public collection and the sensors as switchable, clustered layers.
   Geometries come from the OGC API Features face; a popup shows the server-rendered card of
   the feature or Thing (values with units, "as of" time, stale marked in words). The view,
   the layers and an open popup are kept in the address, so every view can be linked. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("portal-config").textContent);
  var text = config.messages;
  var root = document.querySelector("link[href$='/static/cityhub.css']")
    .getAttribute("href").replace(/\/static\/cityhub\.css$/, "");
  var lang = document.documentElement.lang;
  var status = document.getElementById("map-status");
  var viewLink = document.getElementById("view-link");
  var nearbyLink = document.getElementById("nearby-link");
  var say = function (key, values) {
    return (text[key] || key).replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  };

  var map = L.map("map", { keyboard: true }).setView(config.center, config.zoom);
  if (config.tiles) {
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  }
  var openFeature = config.feature;
  var layers = {};

  function fetchAll(url, features, pages) {
    return fetch(url, { headers: { Accept: "application/geo+json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    }).then(function (page) {
      features.push.apply(features, page.features || []);
      var next = (page.links || []).filter(function (l) { return l.rel === "next"; })[0];
      return next && pages > 1 ? fetchAll(next.href, features, pages - 1) : features;
    });
  }

  function cardUrl(slug, id) {
    var path = slug === "sensors" ? "/things/" + id : "/collections/" + slug + "/" + id;
    return root + path + "/card?lang=" + lang;
  }

  function nameOf(feature) {
    var p = feature.properties || {};
    return p.name || p.title || "#" + feature.id;
  }

  function bindCard(layer, slug, feature) {
    layer.featureKey = slug + "/" + feature.id;
    layer.bindPopup(text["portal.map.popup.loading"], { maxWidth: 360 });
    layer.on("popupopen", function (event) {
      openFeature = layer.featureKey;
      remember();
      var fromKeyboard = layer.getElement && document.activeElement === layer.getElement();
      fetch(cardUrl(slug, feature.id)).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      }).then(function (html) {
        event.popup.setContent(html);
        var title = event.popup.getElement().querySelector(".card-title a");
        if (fromKeyboard && title) { title.focus(); }  // read on from the popup's heading
      }).catch(function () {
        event.popup.setContent(text["portal.map.popup.failed"]);
      });
    });
    layer.on("popupclose", function () {
      if (openFeature === layer.featureKey) { openFeature = null; remember(); }
    });
  }

  function makeLayer(meta, features) {
    var group = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 50, disableClusteringAtZoom: 18,
    });
    var shapes = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function () { return { className: "shape shape-" + (meta.index % 6), weight: 2 }; },
      pointToLayer: function (feature, latlng) {
        var label = say("portal.map.marker", { layer: meta.title, name: nameOf(feature) });
        var icon = L.divIcon({
          className: "marker marker-" + (meta.index % 6),
          html: '<span aria-hidden="true">' + meta.badge + "</span>",
          iconSize: [28, 28],
        });
        return L.marker(latlng, { icon: icon, title: label, alt: label, keyboard: true });
      },
      onEachFeature: function (feature, layer) { bindCard(layer, meta.slug, feature); },
    });
    group.addLayer(shapes);
    return group;
  }

  function load(meta) {
    var url = root + "/features/collections/" + encodeURIComponent(meta.slug) + "/items?limit=5000";
    return fetchAll(url, [], 10).then(function (features) {
      layers[meta.slug] = makeLayer(meta, features);
      return features.length;
    });
  }

  function selected() {
    return Array.prototype.filter.call(
      document.querySelectorAll("#layer-form input[name=layers]"),
      function (box) { return box.checked; }
    ).map(function (box) { return box.value; });
  }

  function remember() {
    var c = map.getCenter();
    var query = "map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5) +
      "&layers=" + selected().join(",") + (openFeature ? "&feature=" + openFeature : "");
    var url = root + "/?" + query;
    history.replaceState(null, "", url);
    viewLink.href = url;
    nearbyLink.href = root + "/nearby?at=" + c.lat.toFixed(5) + "," + c.lng.toFixed(5);
  }

  function show() {
    var wanted = selected();
    config.layers.forEach(function (meta) {
      var layer = layers[meta.slug];
      if (!layer) { return; }
      if (wanted.indexOf(meta.slug) >= 0) { map.addLayer(layer); } else { map.removeLayer(layer); }
    });
    remember();
  }

  function openDeepLinked() {
    if (!openFeature) { return; }
    var slug = openFeature.split("/")[0];
    var group = layers[slug];
    if (!group || !map.hasLayer(group)) { return; }
    var wanted = openFeature;
    group.eachLayer(function (layer) {
      if (layer.featureKey !== wanted) { return; }
      if (group.zoomToShowLayer && layer.getLatLng) {
        group.zoomToShowLayer(layer, function () { layer.openPopup(); });
      } else {
        layer.openPopup();
      }
    });
  }

  function loadBase() {
    if (!config.base) { return Promise.resolve(); }
    var url = root + "/features/collections/" + encodeURIComponent(config.base) + "/items?limit=5000";
    return fetchAll(url, [], 10).then(function (features) {
      L.geoJSON({ type: "FeatureCollection", features: features }, {
        interactive: false, style: function () { return { className: "base-shape", weight: 1 }; },
      }).addTo(map);
    });
  }

  status.textContent = text["portal.map.loading"];
  loadBase().then(function () {
    return Promise.all(config.layers.map(function (meta) {
      return load(meta).catch(function () {
        status.textContent = say("portal.map.failed", { title: meta.title });
        return 0;
      });
    }));
  }).then(function (counts) {
    show();
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    if (status.textContent === text["portal.map.loading"]) {
      status.textContent = say("portal.map.loaded", { n: total });
    }
    document.getElementById("map").setAttribute("data-ready", "true");
    openDeepLinked();
  });

  document.getElementById("layer-form").addEventListener("change", show);
  map.on("moveend", remember);
})();
