/* account.js - sign in (demo personas), sign up, sign out, preferences
 * (GET/PUT) and recommendations with their reasons. */
import { api, el, header, grid, friendly, setStatus, me, busy, ApiError, rememberSession } from "./common.js";

header("account");
const PERSONAS = [
  ["budget@demo.fashion.invalid", "demo-budget-2026", "Budget-Conscious Shopper"],
  ["athletic@demo.fashion.invalid", "demo-athletic-2026", "Athletic Performance"],
  ["luxury@demo.fashion.invalid", "demo-luxury-2026", "Luxury Fashionista"],
  ["accessories@demo.fashion.invalid", "demo-accessories-2026", "Casual Accessories Lover"],
  ["vintage@demo.fashion.invalid", "demo-vintage-2026", "Vintage"]
];
const $ = id => document.getElementById(id);
const status = $("status");

const login = $("login");
/* A persona button fills the form and signs in at once. */
for (const [email, pw, label] of PERSONAS) {
  $("personas").append(el("li", null, el("button", { type: "button", class: "secondary", text: label,
    "aria-label": "Sign in as " + label,
    onclick: () => {
      login.elements.email.value = email;
      login.elements.password.value = pw;
      login.requestSubmit();
    } })));
}

function nextUrl() {
  const n = new URLSearchParams(location.search).get("next");
  return n && n.startsWith("/") && !n.startsWith("//") ? n : null;
}

async function afterAuth() {
  rememberSession(true);
  await me(true);
  const n = nextUrl();
  if (n) { location.assign(n); return; }
  location.reload();
}

let signingIn = false;
login.addEventListener("submit", async e => {
  e.preventDefault();
  const msg = $("login-msg");
  if (signingIn) return;
  signingIn = true;
  busy(true);
  setStatus(msg, "loading", "Signing in…");
  try {
    await api("/auth/login", { method: "POST", json: { email: login.elements.email.value.trim(), password: login.elements.password.value } });
    await afterAuth();
  } catch (err) {
    setStatus(msg, "error", err instanceof ApiError && err.code === "invalid_credentials" ?
      "E-mail or password is not right." : friendly(err));
    busy(false);
  }
  signingIn = false;
});

const signup = $("signup");
signup.addEventListener("submit", async e => {
  e.preventDefault();
  const msg = $("signup-msg");
  busy(true);
  setStatus(msg, "loading", "Creating your account…");
  try {
    await api("/auth/signup", { method: "POST", json: {
      email: signup.elements.email.value.trim(), password: signup.elements.password.value,
      display_name: signup.elements.display_name.value.trim() } });
    await afterAuth();
  } catch (err) {
    setStatus(msg, "error", err instanceof ApiError && err.code === "email_taken" ?
      "An account with this e-mail already exists. Sign in instead." : friendly(err));
    busy(false);
  }
});

const list = s => s.split(",").map(x => x.trim()).filter(Boolean);

async function signedIn(u) {
  $("signed-in").hidden = false;
  $("profile").textContent = `${u.display_name} · ${u.email}` + (u.persona ? ` · persona: ${u.persona}` : "");
  $("logout").addEventListener("click", async () => {
    busy(true);
    try { await api("/auth/logout", { method: "POST", json: {} }); }
    catch (e) {
      /* 401: the session had already ended; signed out all the same */
      if (!(e instanceof ApiError && e.status === 401)) { setStatus(status, "error", friendly(e)); busy(false); return; }
    }
    rememberSession(false);
    await me(true);
    location.reload();
  });
  const prefs = $("prefs");
  const pmsg = $("prefs-msg");
  const fill = p => {
    prefs.elements.preferred_categories.value = (p.preferred_categories || []).join(", ");
    prefs.elements.preferred_colors.value = (p.preferred_colors || []).join(", ");
    prefs.elements.preferred_brands.value = (p.preferred_brands || []).join(", ");
    prefs.elements.min_price.value = p.min_price ?? "";
    prefs.elements.max_price.value = p.max_price ?? "";
    setStatus(pmsg, "", `${p.likes} liked item${p.likes === 1 ? "" : "s"}` + (p.has_style_vector ? " · style profile ready" : ""));
  };
  try { fill(await api(`/users/${u.user_id}/preferences`)); }
  catch (e) { setStatus(pmsg, "error", friendly(e)); }
  prefs.addEventListener("submit", async e => {
    e.preventDefault();
    const body = {
      preferred_categories: list(prefs.elements.preferred_categories.value),
      preferred_colors: list(prefs.elements.preferred_colors.value),
      preferred_brands: list(prefs.elements.preferred_brands.value),
      min_price: prefs.elements.min_price.value === "" ? null : Number(prefs.elements.min_price.value),
      max_price: prefs.elements.max_price.value === "" ? null : Number(prefs.elements.max_price.value)
    };
    if (body.min_price !== null && body.max_price !== null && body.min_price > body.max_price) {
      setStatus(pmsg, "error", "The minimum price is above the maximum price.");
      prefs.elements.min_price.focus();
      return;
    }
    setStatus(pmsg, "loading", "Saving…");
    busy(true);
    try {
      fill(await api(`/users/${u.user_id}/preferences`, { method: "PUT", json: body }));
      setStatus(pmsg, "ok", "Preferences saved.");
      recs(u);
    } catch (err) { setStatus(pmsg, "error", friendly(err)); busy(false); }
  });
  /* a like or unlike in another tab (product.js keeps them in localStorage) */
  window.addEventListener("storage", e => { if (e.key === "fashion_likes_" + u.user_id) recs(u); });
  recs(u);
}

/* The recommendations; main carries aria-busy while they (re)load. */
let recSeq = 0;
async function recs(u) {
  const st = $("recs-status");
  const out = $("recs");
  const my = ++recSeq;
  busy(true);
  setStatus(st, "loading", "Finding picks for you…");
  try {
    const r = await api(`/users/${u.user_id}/recommendations?limit=12`);
    if (my !== recSeq) return;
    const items = r.products || [];
    if (!items.length) {
      out.replaceChildren();
      setStatus(st, "empty", "No recommendations yet. Like a few products to get started.");
    } else {
      setStatus(st, "", r.fallback && r.fallback_reason ? "Based on your preferences (" + r.fallback_reason + ")." : "");
      out.replaceChildren(grid(items, p => p.personalization_reason ?
        el("p", { class: "reason", text: "Why: " + p.personalization_reason }) : null));
    }
  } catch (e) {
    if (my !== recSeq) return;
    out.replaceChildren();
    setStatus(st, "error", friendly(e));
  }
  busy(false);
}

me().then(u => {
  setStatus(status, "", "");
  if (u) signedIn(u);
  else { $("signed-out").hidden = false; busy(false); }
});
