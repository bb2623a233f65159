// Tokens: listed without their values; a new one is shown once; revoking is immediate.
import { announce, api, busy, button, el, fill, formatTime, onSubmit, start, t, table } from "./admin.js";

const form = document.getElementById("token-form");

async function load() {
  const [tokens, datasets] = await Promise.all([api("GET", "/tokens"), api("GET", "/datasets")]);
  const slugOf = Object.fromEntries(datasets.map((d) => [d.id, d.slug]));
  fill(
    "tokens-list",
    table(
      t("tokens.caption", { count: tokens.length }),
      [
        ["ID", (x) => String(x.id)],
        [t("tokens.name"), (x) => x.name],
        [t("tokens.role"), (x) => t(`tokens.role_${x.role}`)],
        [t("tokens.dataset"), (x) => (x.dataset_id == null ? "–" : slugOf[x.dataset_id] ?? String(x.dataset_id))],
        [t("tokens.created_at"), (x) => formatTime(x.created_at)],
        [t("tokens.state"), (x) => (x.revoked_at ? t("tokens.revoked_at", { time: formatTime(x.revoked_at) }) : t("tokens.active"))],
        [t("actions"), (x) => (x.revoked_at ? "" : button(t("tokens.revoke"), t("tokens.revoke_label", { name: x.name, id: x.id }), (e) => revoke(e.currentTarget, x), "danger"))],
      ],
      tokens,
    ),
  );
  const select = form.elements.dataset;
  select.replaceChildren(select.options[0], ...datasets.map((d) => el("option", { value: d.slug }, d.title)));
}

async function revoke(control, entry) {
  if (!window.confirm(t("tokens.revoke_confirm", { name: entry.name, id: entry.id }))) return;
  await busy(control, async () => {
    await api("DELETE", `/tokens/${entry.id}`);
    await load();
    announce(t("tokens.revoked", { name: entry.name }));
    document.getElementById("tokens-list-title").focus();
  });
}

onSubmit(form, async (values) => {
  const created = await api("POST", "/tokens", values);
  form.reset();
  const shown = document.getElementById("new-token");
  shown.hidden = false;
  document.getElementById("new-token-value").value = created.token;
  shown.focus();
  await load();
  announce(t("tokens.created", { name: created.name }));
});

document.getElementById("copy-token").addEventListener("click", async () => {
  const value = document.getElementById("new-token-value");
  value.select();
  try {
    await navigator.clipboard.writeText(value.value);
    announce(t("tokens.copied"));
  } catch {
    announce(t("tokens.copy_manually"));
  }
});

start(load);
