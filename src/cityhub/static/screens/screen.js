/* An information screen: shows the state of /api/screens/{slug}, kept current over
   server-sent events (polling when they fail), kept in localStorage so that an outage of
   the network or the hub leaves the last values on the screen with their time and a
   notice; reconnects with backoff by itself, reports a heartbeat, and shows crisis
   messages (a critical one takes the whole screen). */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("screen-config").textContent);
  const api = config.root + "/api/screens/" + encodeURIComponent(config.slug);
  const storageKey = "cityhub.screen." + config.slug;
  const STREAM_SILENCE = 15000; // the hub pings every 5 s: a silent stream is lost
  const POLL = 10000;
  const MAX_BACKOFF = 10000;
  let clockOffset = 0; // server clock minus this display's clock, in ms
  const now = () => new Date(Date.now() + clockOffset);
  const tiles = window.CityhubTiles(config, now);
  const t = tiles.t;

  const container = document.getElementById("tiles");
  const offline = document.getElementById("offline");
  const banners = document.getElementById("banners");
  const takeover = document.getElementById("takeover");
  const clockNode = document.getElementById("clock");

  let state = null;
  let source = null;
  let watchdog = null;
  let retryTimer = null;
  let pollTimer = null;
  let backoff = 1000;
  let streamFailures = 0;
  let online = null;

  function accept(next) {
    state = next;
    clockOffset = Date.parse(next.server_time) - Date.now();
    try {
      localStorage.setItem(storageKey, JSON.stringify(next));
    } catch (error) { /* storage full or denied: the screen still shows what it has */ }
    document.getElementById("screen-title").textContent = next.screen.title;
    document.body.classList.toggle("screen-portrait", next.screen.orientation === "portrait");
    document.body.classList.toggle("screen-landscape", next.screen.orientation !== "portrait");
    render();
  }

  function render() {
    if (!state) return;
    tiles.render(container, state);
    renderCrisis();
    document.body.dataset.updated = state.server_time;
  }

  function renderCrisis() {
    const moment = now().getTime();
    const active = (state.crisis || []).filter((m) => !m.expires || Date.parse(m.expires) > moment);
    const critical = active.find((m) => m.severity === "critical");
    if (critical) {
      takeover.replaceChildren();
      const severity = document.createElement("p");
      severity.className = "severity";
      severity.textContent = t("screens.crisis.critical");
      const text = document.createElement("p");
      text.className = "text";
      text.textContent = critical.text;
      const since = document.createElement("p");
      since.className = "since";
      since.textContent = t("screens.crisis.since", { time: tiles.clock(critical.created) });
      takeover.append(severity, text, since);
      takeover.dataset.id = String(critical.id);
      takeover.hidden = false;
    } else {
      takeover.hidden = true;
      takeover.replaceChildren();
    }
    document.body.classList.toggle("taken-over", Boolean(critical));
    const shown = active.filter((m) => m !== critical);
    const key = JSON.stringify(shown.map((m) => m.id));
    if (banners.dataset.key === key) return;
    banners.dataset.key = key;
    banners.replaceChildren(...shown.map((m) => {
      const banner = document.createElement("p");
      banner.className = "banner banner-" + (m.severity === "info" ? "info" : "warning");
      banner.dataset.id = String(m.id);
      const label = document.createElement("span");
      label.className = "severity";
      label.textContent = t("screens.crisis." + m.severity);
      banner.append(label, document.createTextNode(m.text));
      return banner;
    }));
  }

  function setOnline(reachable) {
    if (online === reachable) return;
    online = reachable;
    document.body.classList.toggle("is-offline", !reachable);
    if (reachable) {
      offline.hidden = true;
      offline.textContent = "";
    } else {
      offline.textContent = state
        ? t("screens.offline", { time: tiles.clock(state.server_time) })
        : t("screens.offline_never");
      offline.hidden = false;
    }
  }

  function closeStream() {
    if (source) source.close();
    source = null;
    clearTimeout(watchdog);
  }

  function armWatchdog() {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => lost(), STREAM_SILENCE);
  }

  function openStream() {
    closeStream();
    if (!window.EventSource || streamFailures >= 3) {
      startPolling();
      return;
    }
    source = new EventSource(api + "/events");
    armWatchdog();
    source.addEventListener("state", (event) => {
      streamFailures = 0;
      backoff = 1000;
      armWatchdog();
      setOnline(true);
      accept(JSON.parse(event.data));
    });
    source.addEventListener("ping", () => { armWatchdog(); setOnline(true); });
    source.addEventListener("gone", () => location.reload());
    source.onerror = async () => {
      // The hub ends each stream after a while and the browser reconnects by itself; the
      // stream is lost only if the browser gives up or the hub does not answer at all.
      if (source && source.readyState === EventSource.CLOSED) {
        lost();
      } else if (!(await fetchState())) {
        lost();
      }
    };
  }

  async function fetchState() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 8000);
    try {
      const response = await fetch(api, { cache: "no-store", signal: controller.signal });
      if (response.status === 404) {
        location.reload();
        return false;
      }
      if (!response.ok) return false;
      accept(await response.json());
      return true;
    } catch (error) {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function lost() {
    closeStream();
    if (await fetchState()) {
      // The hub answers but the stream failed: try it again, polling meanwhile.
      streamFailures += 1;
      setOnline(true);
      openStream();
      return;
    }
    setOnline(false);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(reconnect, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
  }

  async function reconnect() {
    if (await fetchState()) {
      setOnline(true);
      backoff = 1000;
      openStream();
    } else {
      setOnline(false);
      retryTimer = setTimeout(reconnect, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
    }
  }

  function startPolling() {
    clearInterval(pollTimer);
    pollTimer = setInterval(async () => {
      if (await fetchState()) {
        setOnline(true);
      } else {
        setOnline(false);
      }
    }, POLL);
    // Now and then try the live channel again.
    setTimeout(() => {
      clearInterval(pollTimer);
      streamFailures = 0;
      openStream();
    }, 300000);
  }

  function heartbeat() {
    fetch(api + "/heartbeat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ version: config.version }),
    }).catch(() => undefined);
  }

  function tick() {
    clockNode.textContent = tiles.clock(now().toISOString());
    clockNode.dateTime = now().toISOString();
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(config.root + "/screens/sw.js", { scope: config.root + "/screens/" })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        const assets = [location.href];
        document.querySelectorAll("script[src], link[rel=stylesheet]")
          .forEach((node) => assets.push(node.src || node.href));
        if (registration.active) registration.active.postMessage({ cache: assets });
      })
      .catch(() => undefined);
  }

  try {
    const kept = JSON.parse(localStorage.getItem(storageKey) || "null");
    if (kept && kept.screen) {
      state = kept;
      render();
    }
  } catch (error) { /* nothing kept */ }
  tick();
  setInterval(tick, 1000);
  setInterval(render, 15000);
  reconnect();
  heartbeat();
  setInterval(heartbeat, config.heartbeat * 1000);
  registerWorker();
})();
