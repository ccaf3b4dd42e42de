/* account.js - sign in (demo personas), sign up, sign out, preferences
 * (GET/PUT) and recommendations with their reasons. */
import { api, el, header, grid, friendly, setStatus, me, ApiError } from "./common.js";

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
for (const [email, pw, label] of PERSONAS) {
  $("personas").append(el("li", null, el("button", { type: "button", class: "secondary", text: label,
    "aria-label": "Fill in the " + label + " demo account",
    onclick: () => { login.elements.email.value = email; login.elements.password.value = pw; login.querySelector("button[type=submit]").focus(); } })));
}

function nextUrl() {
  const n = new URLSearchParams(location.search).get("next");
  return n && n.startsWith("/") && !n.startsWith("//") ? n : null;
}

async function afterAuth() {
  await me(true);
  const n = nextUrl();
  if (n) { location.assign(n); return; }
  location.reload();
}

login.addEventListener("submit", async e => {
  e.preventDefault();
  const msg = $("login-msg");
  setStatus(msg, "loading", "Signing in…");
  try {
    await api("/auth/login", { method: "POST", json: { email: login.elements.email.value.trim(), password: login.elements.password.value } });
    await afterAuth();
  } catch (err) {
    setStatus(msg, "error", err instanceof ApiError && err.code === "invalid_credentials" ?
      "E-mail or password is not right." : friendly(err));
  }
});

const signup = $("signup");
signup.addEventListener("submit", async e => {
  e.preventDefault();
  const msg = $("signup-msg");
  setStatus(msg, "loading", "Creating your account…");
  try {
    await api("/auth/signup", { method: "POST", json: {
      email: signup.elements.email.value.trim(), password: signup.elements.password.value,
      display_name: signup.elements.display_name.value.trim() } });
    await afterAuth();
  } catch (err) {
    setStatus(msg, "error", err instanceof ApiError && err.code === "email_taken" ?
      "An account with this e-mail already exists. Sign in instead." : friendly(err));
  }
});

const list = s => s.split(",").map(x => x.trim()).filter(Boolean);

async function signedIn(u) {
  $("signed-in").hidden = false;
  $("profile").textContent = `${u.display_name} · ${u.email}` + (u.persona ? ` · persona: ${u.persona}` : "");
  $("logout").addEventListener("click", async () => {
    try { await api("/auth/logout", { method: "POST", json: {} }); } catch (e) { setStatus(status, "error", friendly(e)); return; }
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
    setStatus(pmsg, "loading", "Saving…");
    try {
      fill(await api(`/users/${u.user_id}/preferences`, { method: "PUT", json: body }));
      setStatus(pmsg, "ok", "Preferences saved.");
      recs(u);
    } catch (err) { setStatus(pmsg, "error", friendly(err)); }
  });
  recs(u);
}

async function recs(u) {
  const st = $("recs-status");
  const out = $("recs");
  setStatus(st, "loading", "Finding picks for you…");
  try {
    const r = await api(`/users/${u.user_id}/recommendations?limit=12`);
    const items = r.products || [];
    if (!items.length) { out.replaceChildren(); setStatus(st, "empty", "No recommendations yet. Like a few products to get started."); return; }
    setStatus(st, "", r.fallback && r.fallback_reason ? "Based on your preferences (" + r.fallback_reason + ")." : "");
    out.replaceChildren(grid(items, p => p.personalization_reason ?
      el("p", { class: "reason", text: "Why: " + p.personalization_reason }) : null));
  } catch (e) { out.replaceChildren(); setStatus(st, "error", friendly(e)); }
}

me().then(u => {
  setStatus(status, "", "");
  if (u) signedIn(u); else $("signed-out").hidden = false;
});
