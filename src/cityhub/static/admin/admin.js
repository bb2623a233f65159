// The admin pages' shared code: the token of the signed-in user, calls of the admin API,
// and small helpers to build accessible markup. The token is kept in sessionStorage (this
// tab only, gone when it closes) and sent as a Bearer header: never a cookie, never a URL.

const config = JSON.parse(document.getElementById("admin-config").textContent);
export const root = config.root;
export const licences = config.licences;
const TOKEN = "cityhub.admin.token";
const FLASH = "cityhub.admin.flash";

/** The message `admin.<key>` in the page language, with `{name}` placeholders filled. */
export function t(key, values = {}) {
  let text = config.messages[`admin.${key}`] ?? key;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** The message `admin.<key>` if the catalogue has one, else `fallback` (a name of the API). */
export function tOr(key, fallback) {
  return config.messages[`admin.${key}`] ?? fallback;
}

export const token = () => sessionStorage.getItem(TOKEN);

export function keepToken(value) {
  sessionStorage.setItem(TOKEN, value);
}

/** Forget the token and go to the sign-in page, saying why (and coming back after). */
export function signOut(message) {
  sessionStorage.removeItem(TOKEN);
  if (message) sessionStorage.setItem(FLASH, message);
  const here = location.pathname.slice(root.length);
  const next = message && here !== "/admin" ? `?next=${encodeURIComponent(here)}` : "";
  location.assign(`${root}/admin${next}`);
}

/** The message a sign-out left for the sign-in page, once. */
export function takeFlash() {
  const message = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  return message;
}

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body; // the API's error body: code, message, and what it names (a tile…)
  }
}

/** Call the admin API: JSON (or a FormData upload) in, JSON out; a 401 signs out. */
export async function api(method, path, body, bearer = token()) {
  const headers = { Authorization: `Bearer ${bearer}`, Accept: "application/json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${root}/api/admin${path}`, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, t("error.network"));
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && bearer === token()) {
    signOut(t("signin.expired"));
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.message ?? `${response.status} ${response.statusText}`, data);
  }
  return data;
}

/** An element: attributes (on… as listeners, true as empty, null left out) and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A table with a caption and column headers; `columns` are [label, row => cell content];
 * `rowAttributes(row)` gives each row's attributes (an id, a class). */
export function table(caption, columns, rows, empty, rowAttributes = () => ({})) {
  if (rows.length === 0) return el("p", { class: "empty" }, empty ?? t("empty"));
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, columns.map(([label]) => el("th", { scope: "col" }, label)))),
      el("tbody", {}, rows.map((row) => el("tr", rowAttributes(row), columns.map(([, cell]) => el("td", {}, cell(row) ?? ""))))),
    ),
  );
}

/** A button whose visible text is short and whose accessible name says what it acts on. */
export function button(text, label, onclick, kind = "") {
  return el("button", { type: "button", class: kind, "aria-label": label, onclick }, text);
}

export function formatTime(iso) {
  if (!iso) return "–";
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toLocaleString(config.lang);
}

/** Say something in the page's status line (announced politely to screen readers). */
export function announce(message, kind = "ok") {
  const status = document.getElementById("admin-status");
  status.textContent = message;
  status.dataset.kind = kind;
}

/** Show an API error next to `form` (an alert) and mark the field it names, if any. */
export function formError(form, message) {
  const box = form.querySelector(".form-error[role=alert]");
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  box.textContent = message ?? "";
  if (!message) return;
  for (const field of form.elements) {
    if (field.name && new RegExp(`(^|[\\s:;(])${field.name}[:\\s]`).test(message)) {
      field.setAttribute("aria-invalid", "true");
    }
  }
}

/** The form's fields as an object: empty texts left out, `data-list` fields split at commas. */
export function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    const text = field.type === "checkbox" ? field.checked : field.value.trim();
    if (text === "") continue;
    values[field.name] = field.dataset.list !== undefined ? text.split(",").map((s) => s.trim()).filter(Boolean) : text;
  }
  return values;
}

/** Handle `form`'s submit with `action(values)`; its errors are shown next to the form. */
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(form, null);
    const submit = form.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      await action(formValues(form));
    } catch (error) {
      formError(form, error.message);
      const invalid = form.querySelector("[aria-invalid]");
      (invalid ?? form.querySelector(".form-error[role=alert]")).focus();
    } finally {
      submit.disabled = false;
    }
  });
}

/** Run `action` for a button, with the button busy meanwhile and its error announced. A
 * keyboard user stays where they were: on the button, or on the one with the same name that
 * replaced it when the list was drawn again (unless the action moved the focus elsewhere). */
export async function busy(control, action) {
  const focused = document.activeElement === control;
  control.disabled = true;
  control.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (error) {
    announce(error.message, "error");
  } finally {
    control.disabled = false;
    control.removeAttribute("aria-busy");
    if (focused && (document.activeElement === document.body || document.activeElement === null)) {
      const name = control.getAttribute("aria-label");
      const same = name ? document.querySelector(`button[aria-label="${CSS.escape(name)}"]`) : null;
      (control.isConnected ? control : same)?.focus();
    }
  }
}

/** Switch the create form `#<prefix>-form` to editing `name`, or back to creating (null):
 * its heading, submit button, cancel button and key field (fixed while editing) follow. */
export function editMode(prefix, area, keyField, name) {
  const form = document.getElementById(`${prefix}-form`);
  const heading = document.getElementById(`${prefix}-form-title`);
  const creating = name === null;
  if (creating) form.reset();
  form.elements[keyField].disabled = !creating;
  heading.textContent = creating ? t(`${area}.create`) : t(`${area}.edit_title`, { name });
  document.getElementById(`${prefix}-submit`).textContent = t(creating ? `${area}.create_submit` : `${area}.save`);
  document.getElementById(`${prefix}-cancel`).hidden = creating;
  if (!creating) heading.focus();
}

/** Offer `entries` ([value, label]) in `select` after an `empty` choice, keeping its choice. */
export function options(select, entries, empty) {
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, empty), ...entries.map(([value, label]) => el("option", { value }, label)));
  select.value = chosen;
}

/** Replace the children of `#id` with `nodes`. */
export function fill(id, ...nodes) {
  document.getElementById(id).replaceChildren(...nodes);
}

/** Start a page that needs a signed-in user: without a token, go to sign-in first. */
export function start(load) {
  if (!token()) {
    signOut(t("signin.needed"));
    return;
  }
  const signOutButton = document.getElementById("sign-out");
  signOutButton.hidden = false;
  signOutButton.addEventListener("click", () => signOut(null));
  load().catch((error) => announce(error.message, "error"));
}
