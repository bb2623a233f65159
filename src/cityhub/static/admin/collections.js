// The feature collections of one dataset, on the datasets page: listed with their counts and
// links to the portal and the OGC API, renamed and described, deleted (after asking). The
// dataset shown is kept in the address (`?collections=<dataset>`), so a reload shows it again.
import { announce, api, busy, button, el, fill, formatTime, formError, onSubmit, options, root, t, table } from "./admin.js";

const PARAMETER = "collections";
const choice = document.getElementById("collections-choice");
const form = document.getElementById("collection-form");
const listTitle = document.getElementById("collections-list-title");
const formTitle = document.getElementById("collection-form-title");
let datasets = new Map(); // slug → dataset, as the page last listed them
let shown = null; // the slug of the dataset whose collections are listed
let editing = null; // { dataset, slug } of the collection being edited
let reloadDatasets = async () => {}; // the page's own load: a deletion changes its counts

const path = (dataset, collection) =>
  `/datasets/${encodeURIComponent(dataset)}/collections${collection ? `/${encodeURIComponent(collection)}` : ""}`;

/** A button that takes the keyboard to the collections of `dataset` (a row of the datasets). */
export function showButton(dataset) {
  return button(t("collections.show_button"), t("collections.show_label", { name: dataset.slug }), (e) =>
    busy(e.currentTarget, () => show(dataset.slug)));
}

/** The page listed its datasets (again): offer them, and list the shown one's collections
 * again (an import or a deletion changed them), or the one the address names. */
export async function datasetsLoaded(listed) {
  datasets = new Map(listed.map((d) => [d.slug, d]));
  options(choice.elements.dataset, listed.map((d) => [d.slug, d.title]), t("choose"));
  const wanted = shown ?? new URLSearchParams(location.search).get(PARAMETER);
  if (wanted && datasets.has(wanted)) await show(wanted, false);
  else if (shown) close();
}

/** List the collections of `slug`; the focus moves to the list unless `focus` is false. */
async function show(slug, focus = true) {
  const dataset = datasets.get(slug);
  if (!dataset) throw new Error(t("collections.missing"));
  const collections = await api("GET", path(slug));
  shown = slug;
  choice.elements.dataset.value = slug;
  listTitle.textContent = t("collections.list_title", { name: dataset.title });
  const listed = table(t("collections.caption", { name: slug, count: collections.length }), columns(), collections, t("collections.none"));
  const restricted = dataset.visibility === "restricted" ? [el("p", { class: "hint" }, t("collections.restricted_hint"))] : [];
  fill("collections-list", listed, ...restricted);
  document.getElementById("collections").hidden = false;
  if (editing && (editing.dataset !== slug || !collections.some((c) => c.slug === editing.slug))) stopEditing();
  address(slug);
  if (focus) listTitle.focus();
}

function columns() {
  return [
    [t("datasets.slug"), (c) => el("code", {}, c.slug)],
    [t("datasets.field_title"), (c) => c.title],
    [t("datasets.description"), (c) => c.description || "–"],
    [t("collections.features"), (c) => String(c.features)],
    [t("collections.gone"), (c) => String(c.gone)],
    [t("collections.modified"), (c) => formatTime(c.modified_at)],
    [t("collections.links"), (c) => el("span", { class: "row-actions" },
      el("a", { href: `${root}/collections/${encodeURIComponent(c.slug)}`, "aria-label": t("collections.portal_label", { name: c.slug }) }, t("collections.portal")),
      el("a", { href: `${root}/features/collections/${encodeURIComponent(c.slug)}`, "aria-label": t("collections.ogc_label", { name: c.slug }) }, t("collections.ogc")))],
    [t("actions"), (c) => el("span", { class: "row-actions" },
      button(t("edit"), t("collections.edit_label", { name: c.slug }), () => edit(c)),
      button(t("delete"), t("collections.delete_label", { name: c.slug }), (e) => remove(e.currentTarget, c), "danger"))],
  ];
}

function close() {
  shown = null;
  stopEditing();
  document.getElementById("collections").hidden = true;
  fill("collections-list");
  address(null);
}

/** Keep the dataset shown in the address, so a reload (or a bookmark) shows it again. */
function address(slug) {
  const url = new URL(location.href);
  if (slug) url.searchParams.set(PARAMETER, slug);
  else url.searchParams.delete(PARAMETER);
  history.replaceState(history.state, "", url);
}

function edit(collection) {
  editing = { dataset: shown, slug: collection.slug };
  formError(form, null);
  form.elements.title.value = collection.title ?? "";
  form.elements.description.value = collection.description ?? "";
  document.getElementById("collection-edit").hidden = false;
  formTitle.textContent = t("collections.edit_title", { name: collection.slug });
  formTitle.focus();
}

function stopEditing() {
  editing = null;
  form.reset();
  formError(form, null);
  document.getElementById("collection-edit").hidden = true;
}

/** Back to the edit button of `slug`, where the keyboard left the list. */
function focusEditButton(slug) {
  const name = t("collections.edit_label", { name: slug });
  document.querySelector(`#collections-list button[aria-label="${CSS.escape(name)}"]`)?.focus();
}

async function remove(control, collection) {
  const { slug, features, gone } = collection;
  const question = gone > 0
    ? t("collections.delete_gone_confirm", { name: slug, features, gone })
    : features > 0 ? t("collections.delete_content_confirm", { name: slug, features }) : t("collections.delete_confirm", { name: slug });
  if (!window.confirm(question)) return;
  await busy(control, async () => {
    await api("DELETE", path(shown, slug));
    await reloadDatasets(); // the datasets' counts, and this list through datasetsLoaded
    announce(t("collections.deleted", { name: slug }));
    listTitle.focus();
  });
}

/** Wire the section up; `reload` lists the datasets again (and so their collections). */
export function setUpCollections(reload) {
  reloadDatasets = reload;
  onSubmit(choice, async (values) => {
    if (!values.dataset) throw new Error(t("collections.missing"));
    await show(values.dataset);
  });
  onSubmit(form, async () => {
    const { dataset, slug } = editing;
    // Both fields are sent as they are: an empty title is the API's to refuse (and say why),
    // an empty description removes it.
    const description = form.elements.description.value.trim();
    const changes = { title: form.elements.title.value.trim(), description: description || null };
    const changed = await api("PATCH", path(dataset, slug), changes);
    stopEditing();
    await show(dataset, false);
    announce(t("collections.saved", { name: changed.slug }));
    focusEditButton(slug);
  });
  document.getElementById("collection-cancel").addEventListener("click", () => {
    const slug = editing?.slug;
    stopEditing();
    if (slug) focusEditButton(slug);
  });
}
