// Connectors: state, last run and its error, run now, the runs of one; those created through
// the API can be edited as JSON (the file's entries are read-only, the API says so).
import { announce, api, busy, button, editMode, el, fill, formatTime, onSubmit, start, t, table } from "./admin.js";

const form = document.getElementById("connector-form");
let editing = null;

function state(c) {
  if (c.problem) return el("span", { class: "badge bad" }, t("connectors.problem", { problem: c.problem }));
  if (c.running_in) return el("span", { class: "badge" }, t("connectors.running"));
  const run = c.last_run;
  if (!run) return el("span", { class: "badge" }, t("connectors.never_run"));
  const label = t(`connectors.status_${run.status}`);
  return el("span", { class: `badge ${run.status === "failed" ? "bad" : run.status === "ok" ? "good" : ""}` }, label);
}

function summary(run) {
  if (run.error) return el("span", { class: "error-text" }, run.error);
  if (!run.summary) return "–";
  return Object.entries(run.summary)
    .filter(([, value]) => value)
    .map(([key, value]) => `${key}: ${value}`)
    .join(", ") || t("connectors.nothing_changed");
}

async function load() {
  const connectors = await api("GET", "/connectors");
  fill(
    "connectors-list",
    table(
      t("connectors.caption", { count: connectors.length }),
      [
        [t("connectors.name"), (c) => el("code", {}, c.name)],
        [t("connectors.type"), (c) => c.type],
        [t("connectors.origin"), (c) => t(`connectors.origin_${c.source}`)],
        [t("connectors.dataset"), (c) => c.dataset],
        [t("connectors.schedule"), (c) => (c.enabled ? c.schedule ?? t("connectors.on_demand") : t("connectors.disabled"))],
        [t("connectors.state"), state],
        [t("connectors.last_run"), (c) => (c.last_run ? el("span", {}, formatTime(c.last_run.started_at), el("br"), summary(c.last_run)) : "–")],
        [t("connectors.last_success"), (c) => formatTime(c.last_success?.finished_at)],
        [t("actions"), (c) => el("span", { class: "row-actions" },
          button(t("connectors.run_now"), t("connectors.run_label", { name: c.name }), (e) => runNow(e.currentTarget, c.name)),
          button(t("connectors.runs"), t("connectors.runs_label", { name: c.name }), (e) => showRuns(e.currentTarget, c.name)),
          c.source === "api" ? button(t("edit"), t("connectors.edit_label", { name: c.name }), (e) => edit(e.currentTarget, c.name)) : null,
          c.source === "api" ? button(t("delete"), t("connectors.delete_label", { name: c.name }), (e) => remove(e.currentTarget, c.name), "danger") : null)],
      ],
      connectors,
      t("connectors.none"),
    ),
  );
}

async function runNow(control, name) {
  announce(t("connectors.started", { name }));
  await busy(control, async () => {
    const outcome = await api("POST", `/connectors/${encodeURIComponent(name)}/run`);
    const text = outcome.status === "failed"
      ? t("connectors.run_failed", { name, error: outcome.error })
      : t("connectors.run_ok", { name, summary: summary(outcome) });
    await load();
    announce(text, outcome.status === "failed" ? "error" : "ok");
  });
}

async function showRuns(control, name) {
  await busy(control, async () => {
    const runs = await api("GET", `/connectors/${encodeURIComponent(name)}/runs?limit=20`);
    document.getElementById("runs").hidden = false;
    document.getElementById("runs-title").textContent = t("connectors.runs_title", { name });
    fill(
      "runs-list",
      table(
        t("connectors.runs_caption", { name, count: runs.length }),
        [
          [t("connectors.started_at"), (r) => formatTime(r.started_at)],
          [t("connectors.trigger"), (r) => t(`connectors.trigger_${r.trigger}`)],
          [t("connectors.state"), (r) => t(`connectors.status_${r.status}`)],
          [t("connectors.result"), summary],
        ],
        runs,
        t("connectors.no_runs"),
      ),
    );
    document.getElementById("runs-title").focus();
  });
}

async function edit(control, name) {
  await busy(control, async () => {
    const shown = await api("GET", `/connectors/${encodeURIComponent(name)}`);
    const { name: _name, source: _source, ...configuration } = shown.configuration;
    editing = name;
    form.elements.name.value = name;
    form.elements.configuration.value = JSON.stringify(configuration, null, 2);
    editMode("connector", "connectors", "name", name);
  });
}

function stopEditing() {
  editing = null;
  editMode("connector", "connectors", "name", null);
}

async function remove(control, name) {
  if (!window.confirm(t("connectors.delete_confirm", { name }))) return;
  await busy(control, async () => {
    await api("DELETE", `/connectors/${encodeURIComponent(name)}`);
    await load();
    announce(t("connectors.deleted", { name }));
    document.getElementById("connectors-list-title").focus();
  });
}

onSubmit(form, async (values) => {
  let configuration;
  try {
    configuration = JSON.parse(form.elements.configuration.value);
  } catch (error) {
    throw new Error(t("json_invalid", { error: error.message }));
  }
  const name = editing ?? values.name ?? "";
  await api(editing ? "PUT" : "POST", `/connectors/${encodeURIComponent(name)}`, configuration);
  const done = t(editing ? "connectors.saved" : "connectors.created", { name });
  stopEditing();
  await load();
  announce(done);
});
document.getElementById("connector-cancel").addEventListener("click", () => {
  stopEditing();
  form.elements.name.focus();
});
document.getElementById("connectors-reload").addEventListener("click", (e) => busy(e.currentTarget, load));

start(load);
