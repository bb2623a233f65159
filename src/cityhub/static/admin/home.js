// The sign-in page and, once signed in, an overview: how many of each, what needs attention.
import { api, el, fill, formError, keepToken, root, t, table, takeFlash, token, formatTime, start, announce } from "./admin.js";

const NEXT = /^\/admin(\/[a-z-]+)?$/;

function showSignIn() {
  const section = document.getElementById("sign-in");
  section.hidden = false;
  const flash = takeFlash();
  if (flash) announce(flash, "error");
  const form = document.getElementById("sign-in-form");
  const input = form.elements.token;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(form, null);
    const candidate = input.value.trim();
    if (!candidate) {
      formError(form, t("signin.empty"));
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    try {
      await api("GET", "/tokens", undefined, candidate);
    } catch (error) {
      const reason = { 401: t("signin.unknown"), 403: t("signin.not_admin") }[error.status] ?? error.message;
      formError(form, reason);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    keepToken(candidate);
    const next = new URLSearchParams(location.search).get("next");
    location.assign(root + (next && NEXT.test(next) ? next : "/admin"));
  });
  input.focus();
}

function count(label, value, page, note) {
  return el("li", {}, el("a", { href: `${root}/admin/${page}` }, label), ": ", el("strong", {}, String(value)), note ? ` – ${note}` : "");
}

async function overview() {
  document.getElementById("overview").hidden = false;
  const [datasets, tokens, connectors, letters] = await Promise.all([
    api("GET", "/datasets"),
    api("GET", "/tokens"),
    api("GET", "/connectors"),
    api("GET", "/lorawan/dead-letters?limit=1000"),
  ]);
  const failing = connectors.filter((c) => c.last_run?.status === "failed" || c.problem).length;
  fill(
    "overview-list",
    count(t("nav.datasets"), datasets.length, "datasets"),
    count(t("home.active_tokens"), tokens.filter((x) => !x.revoked_at).length, "tokens"),
    count(t("nav.connectors"), connectors.length, "connectors", failing ? t("home.failing", { count: failing }) : null),
    count(t("home.dead_letters"), letters.length, "lorawan"),
  );
  await silentScreens();
}

async function silentScreens() {
  let screens;
  try {
    screens = await api("GET", "/screens");
  } catch (error) {
    fill("silent-screens", el("p", {}, t("home.screens_unavailable", { reason: error.message })));
    return;
  }
  const silent = screens.filter((s) => s.silent);
  fill(
    "silent-screens",
    table(
      t("home.silent_caption"),
      [
        [t("screens.title"), (s) => el("a", { href: `${root}/admin/screens#screen-${s.slug}` }, s.title || s.slug)],
        [t("screens.group"), (s) => s.group ?? "–"],
        [t("screens.last_seen"), (s) => (s.last_seen ? formatTime(s.last_seen) : t("screens.never_seen"))],
      ],
      silent,
      t("home.none_silent"),
    ),
  );
}

if (token()) start(overview);
else showSignIn();
