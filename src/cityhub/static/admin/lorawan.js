// LoRaWAN: dead letters (show with payload, retry, drop), integrations and devices.
import { announce, api, busy, button, el, fill, formatTime, start, t, table } from "./admin.js";

async function loadLetters() {
  const letters = await api("GET", "/lorawan/dead-letters?limit=500");
  fill(
    "letters-list",
    table(
      t("lorawan.letters_caption", { count: letters.length }),
      [
        ["ID", (l) => String(l.id)],
        [t("lorawan.received"), (l) => formatTime(l.received_at)],
        [t("lorawan.integration"), (l) => l.integration],
        [t("lorawan.device"), (l) => (l.dev_eui ? el("code", {}, l.dev_eui) : "–")],
        [t("lorawan.reason"), (l) => l.reason],
        [t("lorawan.attempts"), (l) => String(l.attempts)],
        [t("actions"), (l) => el("span", { class: "row-actions" },
          button(t("lorawan.show"), t("lorawan.show_label", { id: l.id }), (e) => show(e.currentTarget, l.id)),
          button(t("lorawan.retry"), t("lorawan.retry_label", { id: l.id }), (e) => retry(e.currentTarget, l.id)),
          button(t("lorawan.drop"), t("lorawan.drop_label", { id: l.id }), (e) => drop(e.currentTarget, l.id), "danger"))],
      ],
      letters,
      t("lorawan.no_letters"),
    ),
  );
}

async function loadIntegrations() {
  const [integrations, devices] = await Promise.all([api("GET", "/lorawan/integrations"), api("GET", "/lorawan/devices")]);
  fill(
    "integrations-list",
    table(
      t("lorawan.integrations_caption", { count: integrations.length }),
      [
        [t("lorawan.name"), (i) => el("code", {}, i.name)],
        [t("lorawan.network"), (i) => i.network],
        [t("connectors.origin"), (i) => t(`connectors.origin_${i.source}`)],
        [t("lorawan.webhook"), (i) => (i.webhook ? el("code", {}, i.webhook) : "–")],
        [t("lorawan.mqtt"), (i) => (i.mqtt ? `${i.broker ?? ""} – ${i.subscriber?.connected ? t("lorawan.connected") : t("lorawan.not_connected")}` : "–")],
        [t("lorawan.problem"), (i) => i.problem ?? "–"],
        [t("lorawan.counters"), (i) => counters(i)],
      ],
      integrations,
      t("lorawan.no_integrations"),
    ),
  );
  fill(
    "devices-list",
    table(
      t("lorawan.devices_caption", { count: devices.length }),
      [
        ["DevEUI", (d) => el("code", {}, d.dev_eui)],
        [t("lorawan.name"), (d) => d.name ?? "–"],
        [t("lorawan.decoder"), (d) => d.decoder ?? "–"],
        [t("lorawan.integration"), (d) => d.integration ?? "–"],
        ["Thing", (d) => (d.thing_id == null ? "–" : String(d.thing_id))],
        [t("lorawan.battery"), (d) => (d.battery == null ? "–" : `${d.battery} % (${formatTime(d.status_at)})`)],
      ],
      devices,
      t("lorawan.no_devices"),
    ),
  );
}

const COUNTERS = ["received", "stored", "duplicate", "event", "dead", "retried"];

function counters(integration) {
  const numbers = integration.subscriber;
  if (!numbers) return "–";
  return COUNTERS.filter((key) => key in numbers).map((key) => `${t(`lorawan.counter_${key}`)}: ${numbers[key]}`).join(", ");
}

async function show(control, id) {
  await busy(control, async () => {
    const letter = await api("GET", `/lorawan/dead-letters/${id}`);
    document.getElementById("letter").hidden = false;
    document.getElementById("letter-title").textContent = t("lorawan.letter_title", { id });
    const rows = [
      [t("lorawan.integration"), letter.integration],
      [t("lorawan.reason"), letter.reason],
      [t("lorawan.received"), formatTime(letter.received_at)],
      [t("lorawan.topic"), letter.topic ?? letter.event ?? "–"],
      [t("lorawan.payload", { encoding: letter.payload_encoding }), el("pre", { tabindex: "0", "aria-label": t("lorawan.payload_label", { id }) }, pretty(letter.payload))],
    ];
    fill("letter-details", ...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
    document.getElementById("letter-title").focus();
  });
}

function pretty(payload) {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

async function retry(control, id) {
  await busy(control, async () => {
    const outcome = await api("POST", `/lorawan/dead-letters/${id}/retry`);
    const stored = outcome.status !== "dead";
    await loadLetters();
    announce(stored ? t("lorawan.retried_ok", { id, status: outcome.status }) : t("lorawan.retried_dead", { id, reason: outcome.detail }), stored ? "ok" : "error");
  });
}

async function drop(control, id) {
  if (!window.confirm(t("lorawan.drop_confirm", { id }))) return;
  await busy(control, async () => {
    await api("DELETE", `/lorawan/dead-letters/${id}`);
    document.getElementById("letter").hidden = true;
    await loadLetters();
    announce(t("lorawan.dropped", { id }));
    document.getElementById("letters-title").focus();
  });
}

document.getElementById("letters-reload").addEventListener("click", (e) => busy(e.currentTarget, loadLetters));
document.getElementById("letters-retry-all").addEventListener("click", (e) =>
  busy(e.currentTarget, async () => {
    const result = await api("POST", "/lorawan/dead-letters/retry");
    await loadLetters();
    announce(t("lorawan.retried_all", { count: result.retried, stored: result.stored ?? 0, dead: result.dead ?? 0 }));
  }),
);

start(() => Promise.all([loadLetters(), loadIntegrations()]));
