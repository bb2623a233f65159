// Crisis messages: push one to the screens (all, or one group), list them, withdraw one.
import { announce, api, busy, button, el, fill, formatTime, onSubmit, start, t, table } from "./admin.js";

const form = document.getElementById("crisis-form");

function state(message) {
  if (message.withdrawn) return t("crisis.withdrawn");
  return message.active ? t("crisis.active") : t("crisis.expired");
}

async function load() {
  const messages = await api("GET", "/crisis");
  fill(
    "crisis-list",
    table(
      t("crisis.caption", { count: messages.length }),
      [
        [t("crisis.text"), (m) => m.text],
        [t("crisis.severity"), (m) => el("span", { class: `crisis-${m.severity}` }, t(`crisis.severity_${m.severity}`))],
        [t("crisis.group"), (m) => m.group ?? t("crisis.all_screens")],
        [t("crisis.created"), (m) => formatTime(m.created)],
        [t("crisis.expires"), (m) => (m.expires ? formatTime(m.expires) : t("crisis.no_expiry"))],
        [t("crisis.state"), state],
        [t("actions"), (m) => (m.active && !m.withdrawn ? button(t("crisis.withdraw"), t("crisis.withdraw_label", { text: m.text.slice(0, 60) }), (e) => withdraw(e.currentTarget, m)) : "")],
      ],
      messages,
      t("crisis.none"),
    ),
  );
}

async function groups() {
  try {
    const screens = await api("GET", "/screens");
    const names = [...new Set(screens.map((s) => s.group).filter(Boolean))].sort();
    fill("screen-groups", ...names.map((name) => el("option", { value: name })));
  } catch {
    // The groups are only a suggestion; the field takes any text.
  }
}

async function withdraw(control, message) {
  if (!window.confirm(t("crisis.withdraw_confirm", { text: message.text }))) return;
  await busy(control, async () => {
    await api("DELETE", `/crisis/${encodeURIComponent(message.id)}`);
    await load();
    announce(t("crisis.withdrawn_done"));
    document.getElementById("crisis-list-title").focus();
  });
}

onSubmit(form, async (values) => {
  if (values.expires) {
    const expires = new Date(values.expires); // the local time the user entered
    if (Number.isNaN(expires.getTime())) throw new Error(t("crisis.expires_invalid"));
    values.expires = expires.toISOString();
  }
  await api("POST", "/crisis", values);
  form.reset();
  await load();
  announce(t("crisis.pushed"));
});
document.getElementById("crisis-reload").addEventListener("click", (e) => busy(e.currentTarget, load));

start(() => Promise.all([load(), groups()]));
