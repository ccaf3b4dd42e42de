/* shop.js - placeholder storefront: the first page of products and the
 * service health, from the fashiond API.  Loaded with defer; no inline
 * script anywhere (the Content-Security-Policy forbids it). */
"use strict";

(function () {
  var API = "/api/v1";
  var PAGE_SIZE = 24;
  var price = new Intl.NumberFormat(undefined, {
    style: "currency",
    currency: "INR",
    maximumFractionDigits: 0
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function getJSON(path) {
    return fetch(API + path, { headers: { Accept: "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return null; })
          .then(function (body) {
            if (!res.ok) {
              var msg = body && body.error && body.error.message;
              throw new Error(msg || "HTTP " + res.status);
            }
            return body;
          });
      });
  }

  function showHealth() {
    var box = document.getElementById("health");
    var text = document.getElementById("health-text");
    getJSON("/health").then(function (h) {
      var ok = h && h.status === "ok";
      box.className = "health " + (ok ? "ok" : "down");
      text.textContent = "Service " + (h && h.status ? h.status : "unknown") +
        (h && h.profile ? " \u00b7 profile " + h.profile : "");
    }).catch(function (err) {
      box.className = "health down";
      text.textContent = "Service unavailable (" + err.message + ")";
    });
  }

  function card(p) {
    var id = p.product_id !== undefined ? p.product_id : p.id;
    var name = p.product_display_name || p.name || "Product " + id;
    var li = el("li");
    var art = el("article", "card");
    var img = el("img");
    img.src = p.image_url || "/images/" + encodeURIComponent(id) + ".jpg";
    img.alt = name;
    img.width = 60;
    img.height = 80;
    img.loading = "lazy";
    img.decoding = "async";
    var body = el("div", "body");
    body.appendChild(el("h3", "name", name));
    var meta = [p.gender, p.article_type, p.base_color].filter(Boolean);
    if (meta.length) body.appendChild(el("p", "meta", meta.join(" \u00b7 ")));
    if (p.price !== null && p.price !== undefined && isFinite(Number(p.price)))
      body.appendChild(el("p", "price", price.format(Number(p.price))));
    art.appendChild(img);
    art.appendChild(body);
    li.appendChild(art);
    return li;
  }

  function showProducts() {
    var grid = document.getElementById("grid");
    var summary = document.getElementById("summary");
    getJSON("/products?page_size=" + PAGE_SIZE).then(function (page) {
      var items = (page && page.products) || [];
      var frag = document.createDocumentFragment();
      items.forEach(function (p) { frag.appendChild(card(p)); });
      grid.replaceChildren(frag);
      summary.className = "summary";
      summary.textContent = items.length
        ? "Showing " + items.length + " of " +
          (page.total !== undefined ? page.total : items.length) + " products"
        : "No products yet.";
    }).catch(function (err) {
      summary.className = "summary error";
      summary.textContent = "Could not load products: " + err.message;
    });
  }

  showHealth();
  showProducts();
})();
