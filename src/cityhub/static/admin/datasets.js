// Datasets and organizations: list, create, edit, delete; a file imported into a collection;
// the collections of a dataset (their own module).
import { announce, api, busy, button, editMode, el, fill, formError, onSubmit, options, start, t, table } from "./admin.js";
import { datasetsLoaded, setUpCollections, showButton } from "./collections.js";

const form = document.getElementById("dataset-form");
const importForm = document.getElementById("import-form");
const LICENCE_BASE = "http://dcat-ap.de/def/licenses/"; // the store keeps the URI, the form the key
let editing = null; // the slug of the dataset being edited, or null when creating

async function load() {
  const [datasets, organizations] = await Promise.all([api("GET", "/datasets"), api("GET", "/organizations")]);
  fill(
    "datasets-list",
    table(
      t("datasets.caption", { count: datasets.length }),
      [
        [t("datasets.slug"), (d) => el("code", {}, d.slug)],
        [t("datasets.field_title"), (d) => d.title],
        [t("datasets.organization"), (d) => d.organization ?? "–"],
        [t("datasets.visibility"), (d) => t(`datasets.${d.visibility}`)],
        [t("datasets.licence"), (d) => d.licence_title ?? d.licence],
        [t("datasets.content"), (d) => t("datasets.content_count", { things: d.things, collections: d.collections })],
        [t("actions"), (d) => el("span", { class: "row-actions" },
          button(t("edit"), t("datasets.edit_label", { name: d.slug }), () => edit(d)),
          showButton(d),
          button(t("delete"), t("datasets.delete_label", { name: d.slug }), (e) => remove(e.currentTarget, d), "danger"))],
      ],
      datasets,
    ),
  );
  fill(
    "organizations-list",
    table(
      t("organizations.caption", { count: organizations.length }),
      [
        [t("datasets.slug"), (o) => el("code", {}, o.slug)],
        [t("organizations.name"), (o) => o.name],
        [t("organizations.url"), (o) => o.url ?? "–"],
        [t("organizations.email"), (o) => o.email ?? "–"],
      ],
      organizations,
    ),
  );
  options(form.elements.organization, organizations.map((o) => [o.slug, o.name]), t("none"));
  options(importForm.elements.dataset, datasets.map((d) => [d.slug, d.title]), t("choose"));
  await datasetsLoaded(datasets);
}

function edit(dataset) {
  editing = dataset.slug;
  formError(form, null);
  const values = { ...dataset, keywords: (dataset.keywords ?? []).join(", "), organization: dataset.organization ?? "" };
  values.licence = (dataset.licence ?? "").replace(LICENCE_BASE, "");
  for (const field of form.elements) {
    if (field.name) field.value = values[field.name] ?? "";
  }
  editMode("dataset", "datasets", "slug", dataset.slug);
}

function stopEditing() {
  editing = null;
  editMode("dataset", "datasets", "slug", null);
}

async function remove(control, dataset) {
  const content = dataset.things + dataset.collections > 0;
  const question = content
    ? t("datasets.delete_content_confirm", { name: dataset.slug, things: dataset.things, collections: dataset.collections })
    : t("datasets.delete_confirm", { name: dataset.slug });
  if (!window.confirm(question)) return;
  await busy(control, async () => {
    await api("DELETE", `/datasets/${encodeURIComponent(dataset.slug)}${content ? "?with_content=true" : ""}`);
    await load();
    announce(t("datasets.deleted", { name: dataset.slug }));
    document.getElementById("datasets-list-title").focus();
  });
}

onSubmit(form, async (values) => {
  let done;
  if (editing) {
    delete values.slug;
    const changed = await api("PATCH", `/datasets/${encodeURIComponent(editing)}`, values);
    done = t("datasets.saved", { name: changed.slug });
    stopEditing();
  } else {
    const created = await api("POST", "/datasets", values);
    done = t("datasets.created", { name: created.slug });
    form.reset();
  }
  await load();
  announce(done);
});
document.getElementById("dataset-cancel").addEventListener("click", () => {
  stopEditing();
  form.elements.slug.focus();
});

onSubmit(document.getElementById("organization-form"), async (values) => {
  const created = await api("POST", "/organizations", values);
  document.getElementById("organization-form").reset();
  await load();
  announce(t("organizations.created", { name: created.slug }));
});

onSubmit(importForm, async (values) => {
  const file = importForm.elements.file.files[0];
  if (!values.dataset || !values.collection || !file) throw new Error(t("import.missing"));
  const upload = new FormData();
  upload.append("file", file);
  const path = `/datasets/${encodeURIComponent(values.dataset)}/collections/${encodeURIComponent(values.collection)}/import`;
  const result = await api("POST", path, upload);
  const summary = Object.entries(result).filter(([, v]) => typeof v !== "object").map(([k, v]) => `${k}: ${v}`).join(", ");
  fill("import-result", el("p", {}, t("import.done", { summary })));
  await load();
  announce(t("import.done", { summary }));
});

setUpCollections(load);
start(load);
