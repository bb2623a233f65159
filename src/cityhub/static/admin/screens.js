// Screens: the list (silent ones said in words), and the layout editor: a tile list built
// from the tile types the API describes, tiles added, removed and reordered, a JSON view for
// power users. The API checks the layout; its error is shown next to the form and the tile.
import { announce, api, busy, button, el, fill, formError, formatTime, root, start, t, table, tOr } from "./admin.js";

const form = document.getElementById("screen-form");
const tileList = document.getElementById("tile-list");
const jsonText = document.getElementById("sc-json");
const NUMBERS = new Set(["integer", "number", "datastream"]); // a Datastream by its @iot.id
let tileTypes = {}; // type -> {title, description, options: [{name, type, required, description}]}
let layout = null; // {title, group, orientation, tiles}
let editing = null; // the slug of a screen being edited; null for a new one

/** The tile types, whether the API lists them or maps each type to its description. */
function typesOf(answer) {
  const entries = Array.isArray(answer) ? answer.map((entry) => [entry.type ?? entry.name, entry]) : Object.entries(answer);
  return Object.fromEntries(
    entries.map(([type, entry]) => {
      const options = Array.isArray(entry.options) ? entry.options : Object.entries(entry.options ?? {}).map(([name, o]) => ({ name, ...o }));
      return [type, { title: tOr(`tile.${type}`, entry.title ?? type), description: entry.description ?? "", options }];
    }),
  );
}

function stateOf(screen) {
  if (!screen.silent) return el("span", { class: "badge good" }, t("screens.online"));
  const since = screen.last_seen ? t("screens.silent_since", { time: formatTime(screen.last_seen) }) : t("screens.never_seen");
  return el("strong", { class: "badge bad" }, `${t("screens.silent")} – ${since}`);
}

async function load() {
  const screens = await api("GET", "/screens");
  const silent = screens.filter((s) => s.silent).length;
  fill(
    "screens-list",
    table(
      t("screens.caption", { count: screens.length, silent }),
      [
        [t("screens.field_title"), (s) => s.title || s.slug],
        [t("screens.slug"), (s) => el("code", {}, s.slug)],
        [t("screens.group"), (s) => s.group || "–"],
        [t("screens.orientation"), (s) => t(`screens.${s.orientation}`)],
        [t("screens.tiles"), (s) => String((s.tiles ?? []).length)],
        [t("screens.state"), stateOf],
        [t("screens.last_seen"), (s) => (s.last_seen ? formatTime(s.last_seen) : "–")],
        [t("actions"), (s) => el("span", { class: "row-actions" },
          button(t("edit"), t("screens.edit_label", { name: s.title || s.slug }), (e) => edit(e.currentTarget, s.slug)),
          el("a", { href: `${root}/screens/${encodeURIComponent(s.slug)}`, "aria-label": t("screens.open_label", { name: s.title || s.slug }) }, t("screens.open")),
          button(t("delete"), t("screens.delete_label", { name: s.title || s.slug }), (e) => remove(e.currentTarget, s), "danger"))],
      ],
      screens,
      t("screens.none"),
      (s) => ({ id: `screen-${s.slug}`, class: s.silent ? "silent" : null }),
    ),
  );
}

function openEditor(slug, screen) {
  editing = slug;
  layout = {
    title: screen.title ?? "",
    group: screen.group ?? "",
    orientation: screen.orientation ?? "landscape",
    tiles: structuredClone(screen.tiles ?? []),
  };
  form.elements.slug.value = slug ?? "";
  form.elements.slug.disabled = Boolean(slug);
  showLayout();
  formError(form, null);
  document.getElementById("editor").hidden = false;
  const heading = document.getElementById("editor-title");
  heading.textContent = slug ? t("screens.edit_title", { name: screen.title || slug }) : t("screens.new_title");
  heading.focus();
}

/** Put `layout` into the form fields, the tile list and the JSON view. */
function showLayout() {
  for (const name of ["title", "group", "orientation"]) form.elements[name].value = layout[name] ?? "";
  renderTiles();
}

async function edit(control, slug) {
  await busy(control, async () => openEditor(slug, await api("GET", `/screens/${encodeURIComponent(slug)}`)));
}

async function remove(control, screen) {
  if (!window.confirm(t("screens.delete_confirm", { name: screen.title || screen.slug }))) return;
  await busy(control, async () => {
    await api("DELETE", `/screens/${encodeURIComponent(screen.slug)}`);
    announce(t("screens.deleted", { name: screen.title || screen.slug }));
    if (editing === screen.slug) document.getElementById("editor").hidden = true;
    await load();
    document.getElementById("screens-list-title").focus();
  });
}

// --- the tile list ------------------------------------------------------------------------

function renderTiles(focus) {
  tileList.replaceChildren(...layout.tiles.map(tileItem));
  syncJson();
  if (focus) (tileList.querySelector(focus) ?? document.getElementById("tile-type")).focus();
}

function tileItem(tile, index) {
  const kind = tileTypes[tile.type];
  const number = index + 1;
  const name = kind?.title ?? tile.type;
  const last = index === layout.tiles.length - 1;
  return el(
    "li",
    { class: "tile", id: `tile-${index}` },
    el(
      "fieldset",
      {},
      el("legend", {}, t("screens.tile_legend", { number, type: name })),
      kind?.description ? el("p", { class: "hint" }, kind.description) : null,
      kind ? null : el("p", { class: "error-text" }, t("screens.unknown_type", { type: String(tile.type) })),
      (kind?.options ?? []).map((option) => optionField(tile, index, option)),
      el("p", { class: "form-error tile-error", id: `tile-${index}-error` }),
      el(
        "p",
        { class: "row-actions" },
        edgeButton(t("screens.up"), t("screens.up_label", { number, type: name }), index === 0, "up", () => move(index, -1)),
        edgeButton(t("screens.down"), t("screens.down_label", { number, type: name }), last, "down", () => move(index, 1)),
        el("button", { type: "button", class: "danger", "data-action": "remove", "aria-label": t("screens.remove_label", { number, type: name }), onclick: () => removeTile(index) }, t("screens.remove")),
      ),
    ),
  );
}

/** A move button that stays focusable at the list's edge (it then says it cannot move). */
function edgeButton(text, label, atEdge, action, onclick) {
  const attributes = { type: "button", "data-action": action, "aria-label": label, "aria-disabled": atEdge ? "true" : null };
  return el("button", { ...attributes, onclick: () => (atEdge ? null : onclick()) }, text);
}

function optionField(tile, index, option) {
  const id = `tile-${index}-${option.name}`;
  const hint = option.description ? el("span", { class: "hint", id: `${id}-hint` }, option.description) : null;
  const input = optionInput(option, id, tile[option.name]);
  if (hint) input.setAttribute("aria-describedby", hint.id);
  input.dataset.tile = String(index);
  input.addEventListener("change", () => readOption(tile, option, input));
  // The page's name for the option, then its name in the API (as errors and the JSON say it).
  const named = tOr(`option.${option.name}`, option.name);
  const label = `${named} (${option.name}${option.required ? `, ${t("screens.required")}` : ""})`;
  const field = input.type === "checkbox"
    ? el("p", { class: "field checkbox" }, el("label", { for: id }, input, " ", label), hint)
    : el("p", { class: "field" }, el("label", { for: id }, label), input, hint);
  return field;
}

function optionInput(option, id, value) {
  const choices = option.enum ?? option.choices ?? option.values;
  const required = option.required ? true : null;
  if (Array.isArray(choices)) {
    const select = el("select", { id, required }, option.required ? null : el("option", { value: "" }, t("none")), choices.map((c) => el("option", { value: String(c) }, String(c))));
    select.value = value === undefined || value === null ? (option.required ? String(choices[0]) : "") : String(value);
    return select;
  }
  if (option.type === "boolean") {
    const box = el("input", { id, type: "checkbox" });
    box.checked = Boolean(value ?? option.default);
    return box;
  }
  if (NUMBERS.has(option.type)) {
    const step = option.type === "number" ? "any" : "1";
    return el("input", { id, type: "number", step, min: option.minimum, max: option.maximum, required, value: value ?? "" });
  }
  if (option.type === "text-list") {
    return el("input", { id, required, "data-list": true, value: Array.isArray(value) ? value.join(", ") : value ?? "" });
  }
  if (option.type === "url") {
    return el("input", { id, required, inputmode: "url", spellcheck: "false", value: value ?? "" });
  }
  if (option.type === "object" || option.type === "array" || (value !== null && typeof value === "object")) {
    const area = el("textarea", { id, rows: "3", class: "code", required, spellcheck: "false" });
    area.value = value === undefined ? "" : JSON.stringify(value);
    return area;
  }
  return el("input", { id, required, value: value ?? "" });
}

function readOption(tile, option, input) {
  input.removeAttribute("aria-invalid");
  const text = input.value.trim();
  if (input.type === "checkbox") tile[option.name] = input.checked;
  else if (text === "") delete tile[option.name];
  else if (input.type === "number") tile[option.name] = Number(text);
  else if (input.dataset.list !== undefined) tile[option.name] = text.split(",").map((s) => s.trim()).filter(Boolean);
  else if (input.tagName === "TEXTAREA") {
    try {
      tile[option.name] = JSON.parse(text);
    } catch {
      input.setAttribute("aria-invalid", "true");
      formError(form, t("screens.option_json", { name: option.name }));
      return;
    }
  } else tile[option.name] = text;
  syncJson();
}

function move(index, step) {
  const [tile] = layout.tiles.splice(index, 1);
  layout.tiles.splice(index + step, 0, tile);
  const action = step < 0 ? "up" : "down";
  renderTiles(`#tile-${index + step} [data-action=${action}]`);
  announce(t("screens.moved", { number: index + step + 1 }));
}

function removeTile(index) {
  layout.tiles.splice(index, 1);
  const next = Math.min(index, layout.tiles.length - 1);
  renderTiles(next >= 0 ? `#tile-${next} [data-action=remove]` : null);
  if (next < 0) document.getElementById("tile-type").focus();
  announce(t("screens.removed", { number: index + 1 }));
}

function addTile() {
  const type = document.getElementById("tile-type").value;
  const tile = { type };
  for (const option of tileTypes[type]?.options ?? []) {
    if (option.default !== undefined && option.default !== null) tile[option.name] = option.default;
  }
  layout.tiles.push(tile);
  const index = layout.tiles.length - 1;
  renderTiles(`#tile-${index} input, #tile-${index} select, #tile-${index} textarea, #tile-${index} button`);
  announce(t("screens.added", { number: index + 1, type: tileTypes[type]?.title ?? type }));
}

// --- the JSON view and saving -------------------------------------------------------------

function body() {
  const { title, group, orientation, tiles } = layout;
  return { title, group: group || null, orientation, tiles };
}

function syncJson() {
  if (document.activeElement !== jsonText) jsonText.value = JSON.stringify(body(), null, 2);
}

function applyJson() {
  formError(form, null);
  let parsed;
  try {
    parsed = JSON.parse(jsonText.value);
  } catch (error) {
    formError(form, t("json_invalid", { error: error.message }));
    jsonText.setAttribute("aria-invalid", "true");
    jsonText.focus();
    return;
  }
  if (parsed === null || typeof parsed !== "object" || !Array.isArray(parsed.tiles ?? [])) {
    formError(form, t("screens.json_shape"));
    jsonText.focus();
    return;
  }
  jsonText.removeAttribute("aria-invalid");
  layout = { title: parsed.title ?? "", group: parsed.group ?? "", orientation: parsed.orientation ?? "landscape", tiles: parsed.tiles ?? [] };
  showLayout();
  announce(t("screens.json_applied"));
}

/** Show an API error at the tile (and option) it names: the body's `tile` and `option`,
 * as the message says them too (`tiles[2].stop (departures): …`). */
function markTile(error) {
  const found = /^tiles\[(\d+)\](?:\.([\w-]+))?/.exec(error.message ?? "");
  const index = error.body?.tile ?? (found ? Number(found[1]) : null);
  const option = error.body?.option ?? found?.[2];
  const box = index === null ? null : document.getElementById(`tile-${index}-error`);
  if (!box) return null;
  box.textContent = error.message;
  const field = option ? document.getElementById(`tile-${index}-${option}`) : null;
  field?.setAttribute("aria-invalid", "true");
  return field ?? box.closest("li").querySelector("input, select, textarea, button");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError(form, null);
  for (const box of tileList.querySelectorAll(".tile-error")) box.textContent = "";
  for (const name of ["title", "group", "orientation"]) layout[name] = form.elements[name].value.trim();
  const slug = editing ?? form.elements.slug.value.trim();
  if (!slug) {
    formError(form, t("screens.slug_missing"));
    form.elements.slug.focus();
    return;
  }
  try {
    await api("PUT", `/screens/${encodeURIComponent(slug)}`, body());
  } catch (error) {
    formError(form, error.message);
    (markTile(error) ?? form.querySelector("[aria-invalid]") ?? document.getElementById("screen-form-error")).focus();
    return;
  }
  editing = slug;
  form.elements.slug.disabled = true;
  await load();
  announce(t("screens.saved", { name: layout.title || slug }));
});

for (const name of ["title", "group", "orientation"]) {
  form.elements[name].addEventListener("change", () => {
    layout[name] = form.elements[name].value.trim();
    syncJson();
  });
}
document.getElementById("tile-add").addEventListener("click", addTile);
document.getElementById("json-apply").addEventListener("click", applyJson);
document.getElementById("json-view").addEventListener("toggle", syncJson);
document.getElementById("screen-new").addEventListener("click", () => openEditor(null, {}));
document.getElementById("editor-close").addEventListener("click", () => {
  document.getElementById("editor").hidden = true;
  document.getElementById("screens-list-title").focus();
});
document.getElementById("screens-reload").addEventListener("click", (e) => busy(e.currentTarget, load));

start(async () => {
  const [types] = await Promise.all([api("GET", "/screens/tile-types"), load()]);
  tileTypes = typesOf(types);
  fill("tile-type", ...Object.entries(tileTypes).map(([type, kind]) => el("option", { value: type }, kind.title)));
});
