/* cart.js - the cart, kept in localStorage: change quantity, remove. */
import { el, header, money, cartGet, cartSave, setStatus, busy } from "./common.js";

header("cart");
const box = document.getElementById("cart");
const status = document.getElementById("status");

function render() {
  const items = cartGet();
  if (!items.length) {
    box.replaceChildren(el("p", null, "Your cart is empty. ", el("a", { href: "/catalog.html", text: "Start shopping" })));
    return;
  }
  const tbody = el("tbody", { id: "cart-lines" });
  let total = 0;
  for (const it of items) {
    const line = it.price === null ? null : it.price * it.qty;
    if (line !== null) total += line;
    const qid = "qty-" + it.id;
    const qty = el("input", { id: qid, type: "number", min: 1, max: 99, value: String(it.qty), inputMode: "numeric" });
    qty.addEventListener("change", () => {
      const n = Math.max(1, Math.min(99, parseInt(qty.value, 10) || 1));
      const all = cartGet();
      const f = all.find(i => i.id === it.id);
      if (f) f.qty = n;
      cartSave(all);
      setStatus(status, "ok", `Quantity of ${it.name} set to ${n}.`);
      render();
      const again = document.getElementById(qid);
      if (again) again.focus();
    });
    const rm = el("button", { type: "button", class: "secondary", text: "Remove", "aria-label": "Remove " + it.name,
      onclick: () => { cartSave(cartGet().filter(i => i.id !== it.id)); setStatus(status, "ok", `Removed ${it.name}.`); render(); document.getElementById("main").focus(); } });
    tbody.append(el("tr", { class: "line" },
      el("td", { class: "img-col" }, el("img", { src: it.image, alt: it.name, width: 60, height: 80 })),
      el("td", { class: "name-col" }, el("a", { href: "/product.html?id=" + it.id, text: it.name })),
      el("td", { class: "num", "data-label": "Price" }, it.price === null ? "—" : money.format(it.price)),
      el("td", { class: "qty-col", "data-label": "Quantity" }, el("label", { for: qid, class: "visually-hidden", text: "Quantity for " + it.name }), qty),
      el("td", { class: "num", "data-label": "Subtotal" }, line === null ? "—" : money.format(line)),
      el("td", null, rm)));
  }
  const table = el("table", { class: "cart-table" },
    el("caption", { class: "visually-hidden", text: "Items in your cart" }),
    el("thead", null, el("tr", null,
      el("th", { class: "img-col", scope: "col" }, el("span", { class: "visually-hidden", text: "Image" })),
      el("th", { scope: "col", text: "Product" }), el("th", { scope: "col", text: "Price" }),
      el("th", { scope: "col", text: "Quantity" }), el("th", { scope: "col", text: "Subtotal" }),
      el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Actions" })))),
    tbody);
  box.replaceChildren(table,
    el("p", { id: "cart-total", class: "total", text: "Total: " + money.format(total) }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", text: "Empty cart",
        onclick: () => { cartSave([]); setStatus(status, "ok", "Cart emptied."); render(); } })));
}

window.addEventListener("storage", render);
render();
busy(false);
