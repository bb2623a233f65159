/* Tiles of an information screen: each type drawn from its data in the screen's state.
   Everything is built with textContent (no markup from data), except the QR code's SVG,
   which the hub draws itself, and a base map's attribution, escaped for Leaflet. */
(function () {
  "use strict";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function asMarkup(text) {
    const holder = document.createElement("span");
    holder.textContent = text || "";
    return holder.innerHTML;
  }

  function Tiles(config, now) {
    const M = config.messages;
    const lang = config.lang;
    const zone = config.timezone;
    const maps = {};
    const tickers = {};

    function t(key, values) {
      let text = M[key] || key;
      for (const name in values || {}) text = text.split("{" + name + "}").join(values[name]);
      return text;
    }
    function number(value, digits) {
      if (value === null || value === undefined || typeof value !== "number") return "–";
      return new Intl.NumberFormat(lang, {
        minimumFractionDigits: digits, maximumFractionDigits: digits,
      }).format(value);
    }
    function clock(iso) {
      return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: zone })
        .format(new Date(iso));
    }
    function day(iso) {
      return new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "numeric", timeZone: zone })
        .format(new Date(iso));
    }
    function asOfText(iso) {
      const sameDay = day(iso) === day(now().toISOString());
      return sameDay ? t("screens.as_of", { time: clock(iso) })
        : t("screens.as_of_day", { day: day(iso), time: clock(iso) });
    }
    function band(kind, key) {
      return el("span", "band band-" + key, t("screens." + kind + ".band." + key));
    }
    function valueLine(value, unit, digits) {
      const line = el("p", "big", number(value, digits));
      if (unit) line.appendChild(el("span", "unit", unit));
      return line;
    }
    function fact(list, label, text) {
      const item = el("li");
      item.appendChild(el("span", null, label));
      item.appendChild(el("strong", null, text));
      list.appendChild(item);
    }
    function withUnit(reading, digits) {
      if (!reading) return "–";
      return number(reading.value, digits) + (reading.unit ? " " + reading.unit : "");
    }

    const draw = {
      departures(body, tile) {
        if (tile.stop) body.appendChild(el("p", "advice", tile.stop));
        const leaving = now().getTime() - 30000;
        const rows = (tile.departures || []).filter((d) => Date.parse(d.time) >= leaving)
          .slice(0, tile.limit || 6);
        if (!rows.length) {
          body.appendChild(el("p", "unavailable", t("screens.departures.none")));
          return;
        }
        const table = el("table", "board");
        const head = table.createTHead().insertRow();
        for (const key of ["line", "destination", "time", "platform"]) {
          const cell = el("th", null, t("screens.departures." + key));
          cell.scope = "col";
          head.appendChild(cell);
        }
        const rowsBody = table.createTBody();
        for (const d of rows) {
          const row = rowsBody.insertRow();
          if (d.cancelled) row.className = "cancelled";
          const route = row.insertCell();
          route.className = "route";
          route.appendChild(el("span", "route-badge", d.route || ""));
          const headsign = row.insertCell();
          headsign.className = "headsign";
          headsign.textContent = d.headsign || "";
          const when = row.insertCell();
          when.className = "when";
          const minutes = Math.round((Date.parse(d.time) - now().getTime()) / 60000);
          when.textContent = d.cancelled ? t("screens.departures.cancelled")
            : minutes <= 0 ? t("screens.departures.now")
            : minutes < 60 ? t("screens.departures.minutes", { n: minutes }) : clock(d.time);
          if (!d.cancelled && d.delay && d.delay >= 60) {
            when.appendChild(el("span", "delay", t("screens.departures.delay", { n: Math.round(d.delay / 60) })));
          }
          const platform = row.insertCell();
          platform.className = "platform";
          platform.textContent = d.platform || "";
        }
        body.appendChild(table);
      },
      parking(body, tile) {
        const list = el("ul", "garages");
        for (const garage of tile.garages || []) {
          const item = el("li");
          const name = el("span", "name", garage.name);
          if (garage.capacity) name.appendChild(el("span", "capacity", t("screens.parking.of", { n: number(garage.capacity, 0) })));
          item.appendChild(name);
          const figure = el("span", "figure");
          if (garage.free === null) {
            figure.textContent = "–";
          } else if (garage.free <= 0) {
            figure.appendChild(el("strong", "free", t("screens.parking.full")));
          } else {
            figure.appendChild(el("strong", "free", number(garage.free, 0)));
            figure.appendChild(document.createTextNode(" " + t("screens.parking.free")));
          }
          item.appendChild(figure);
          list.appendChild(item);
        }
        body.appendChild(list);
      },
      weather(body, tile) {
        const now_ = tile.now || {};
        if (!now_.temperature) {
          body.appendChild(el("p", "unavailable", t("screens.unavailable")));
          return;
        }
        body.appendChild(valueLine(now_.temperature.value, now_.temperature.unit, 1));
        const list = el("ul", "facts");
        const today = tile.today || {};
        if (today.low !== undefined && today.low !== null) {
          body.appendChild(el("p", "advice", t("screens.weather.range", {
            low: number(today.low, 0) + "°", high: number(today.high, 0) + "°",
          })));
        }
        if (now_.humidity) fact(list, t("screens.weather.humidity"), withUnit(now_.humidity, 0));
        if (now_.wind) fact(list, t("screens.weather.wind"), withUnit(now_.wind, 1));
        if (today.precipitation !== undefined && today.precipitation !== null) {
          const unit = now_.precipitation && now_.precipitation.unit ? " " + now_.precipitation.unit : "";
          fact(list, t("screens.weather.precipitation"), number(today.precipitation, 1) + unit);
        }
        body.appendChild(list);
      },
      uv(body, tile) {
        if (tile.value === null || tile.value === undefined) {
          body.appendChild(el("p", "unavailable", t("screens.unavailable")));
          return;
        }
        const line = valueLine(Math.round(tile.value), null, 0);
        line.appendChild(band("uv", tile.band));
        body.appendChild(line);
        body.appendChild(el("p", "advice", t("screens.uv.advice." + tile.band)));
        if (tile.today_high !== null && tile.today_high !== undefined) {
          body.appendChild(el("p", "advice", t("screens.uv.today_high", {
            value: number(Math.round(tile.today_high), 0), band: t("screens.uv.band." + tile.today_band),
          })));
        }
      },
      water(body, tile) {
        if (tile.value === null || tile.value === undefined) {
          body.appendChild(el("p", "unavailable", t("screens.unavailable")));
          return;
        }
        body.appendChild(valueLine(tile.value, tile.unit, 0));
        if (tile.trend) {
          const arrow = { rising: "↑", falling: "↓", steady: "→" }[tile.trend];
          body.appendChild(el("p", "trend", arrow + " " + t("screens.water." + tile.trend)));
          const sign = Math.round(tile.change) > 0 ? "+" : "";
          body.appendChild(el("p", "advice", t("screens.water.change", {
            change: sign + number(tile.change, 0) + (tile.unit ? " " + tile.unit : ""),
            minutes: tile.trend_minutes,
          })));
        }
        if (tile.warning) {
          body.appendChild(el("p", "warning-line", t("screens.water.warning", {
            level: number(tile.warn_level, 0) + (tile.unit ? " " + tile.unit : ""),
          })));
        }
      },
      air(body, tile) {
        if (!tile.index) {
          body.appendChild(el("p", "unavailable", t("screens.unavailable")));
          return;
        }
        const line = el("p", "index-line");
        const index = band("air", tile.index);
        index.classList.add("band-large");
        line.appendChild(index);
        body.appendChild(line);
        body.appendChild(el("p", "advice", t("screens.air.advice." + tile.index)));
        const list = el("ul", "facts");
        for (const name of ["pm10", "pm2p5", "no2", "o3"]) {
          const p = (tile.pollutants || {})[name];
          if (!p) continue;
          fact(list, t("screens.air." + name), number(p.value, 0) + " " + (p.unit || "µg/m³"));
        }
        body.appendChild(list);
      },
      map(body, tile, index) {
        const key = JSON.stringify(tile.layers) + tile.tile_url;
        let kept = maps[index];
        if (!kept || kept.key !== key) {
          if (kept) kept.map.remove();
          const holder = el("div", "map");
          holder.setAttribute("role", "img");
          holder.setAttribute("aria-label", t("screens.map.label", {
            layers: (tile.layers || []).map((l) => l.title).join(", "),
          }));
          kept = maps[index] = { key: key, holder: holder, map: null };
        }
        body.appendChild(kept.holder);
        if (!kept.map && window.L) {
          const map = L.map(kept.holder, {
            zoomControl: false, attributionControl: Boolean(tile.tile_url), dragging: false,
            scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false,
            touchZoom: false, zoomSnap: 0.25,
          });
          // Leaflet writes an attribution as markup: the layout's text goes in as text.
          if (tile.tile_url) L.tileLayer(tile.tile_url, { attribution: asMarkup(tile.attribution) }).addTo(map);
          const colours = ["#ffd400", "#5be37a", "#a8d8ff", "#ff9933"];
          const bounds = L.latLngBounds([]);
          (tile.layers || []).forEach((layer, i) => {
            const colour = colours[i % colours.length];
            const drawn = L.geoJSON({ type: "FeatureCollection", features: layer.features }, {
              interactive: false,
              style: { color: colour, weight: 2, fillOpacity: 0.08 },
              pointToLayer: (_, latlng) => L.circleMarker(latlng, {
                radius: 7, color: "#000", weight: 2, fillColor: colour, fillOpacity: 1, interactive: false,
              }),
            }).addTo(map);
            if (drawn.getLayers().length) bounds.extend(drawn.getBounds());
          });
          kept.map = map;
          kept.bounds = bounds;
          requestAnimationFrame(() => {
            map.invalidateSize();
            if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
            else map.setView([51.17, 7.08], 12);
          });
        }
      },
      ticker(body, tile, index) {
        const items = tile.items || [];
        if (!items.length) return;
        const state = tickers[index] || (tickers[index] = { at: 0, shown: Date.now() });
        if (Date.now() - state.shown > 8000) {
          state.at = (state.at + 1) % items.length;
          state.shown = Date.now();
        }
        const item = items[state.at % items.length];
        const line = el("p", "ticker-text");
        if (item.time) line.appendChild(el("span", "ticker-time", day(item.time) + " " + clock(item.time)));
        line.appendChild(document.createTextNode(item.text));
        body.appendChild(line);
      },
      qr(body, tile) {
        const box = el("div", "qr");
        const code = el("div", "qr-code");
        code.setAttribute("role", "img");
        code.setAttribute("aria-label", t("screens.qr.label", { url: tile.url }));
        code.innerHTML = tile.svg || "";
        const svg = code.querySelector("svg");
        if (svg) svg.setAttribute("aria-hidden", "true");
        box.appendChild(code);
        const text = el("div", "qr-text");
        if (tile.label) text.appendChild(el("p", null, tile.label));
        text.appendChild(el("p", null, tile.url.replace(/^https?:\/\//, "")));
        box.appendChild(text);
        body.appendChild(box);
      },
    };

    function isStale(tile) {
      if (!tile.as_of || !tile.stale_after) return false;
      return now().getTime() - Date.parse(tile.as_of) > tile.stale_after * 1000;
    }

    function drawTile(tile, index, state) {
      const section = el("section", "tile tile-" + tile.type);
      section.dataset.type = tile.type;
      const heading = el("h3", null, tile.title || t("screens.tile." + tile.type));
      heading.id = "tile-" + index;
      section.setAttribute("aria-labelledby", heading.id);
      section.appendChild(heading);
      const body = el("div", "tile-body");
      if (tile.available === false) {
        body.appendChild(el("p", "unavailable", t("screens.unavailable")));
      } else if (draw[tile.type]) {
        draw[tile.type](body, tile, index);
      }
      section.appendChild(body);
      const footer = el("p", "tile-footer");
      const stale = isStale(tile);
      if (stale) {
        section.classList.add("stale");
        footer.appendChild(el("span", "stale-label", t("screens.stale")));
      }
      const asOf = tile.as_of || (tile.type === "departures" ? state.server_time : null);
      if (asOf) footer.appendChild(el("span", "as-of", asOfText(asOf)));
      if (footer.childNodes.length) section.appendChild(footer);
      return section;
    }

    return {
      t: t,
      clock: clock,
      asOfText: asOfText,
      render(container, state) {
        // Tickers run along the bottom; the other tiles share a grid above them.
        const grid = el("div", "grid");
        const strip = el("div", "strip");
        (state.tiles || []).forEach((tile, index) => {
          (tile.type === "ticker" ? strip : grid).appendChild(drawTile(tile, index, state));
        });
        container.replaceChildren(grid, strip);
        for (const index in maps) {
          const kept = maps[index];
          if (!kept.map) continue;
          kept.map.invalidateSize();
          if (kept.bounds && kept.bounds.isValid()) kept.map.fitBounds(kept.bounds, { padding: [10, 10] });
        }
      },
    };
  }

  window.CityhubTiles = Tiles;
})();
