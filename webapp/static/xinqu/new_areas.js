/* The new-areas table (/new-areas): sort by a column heading and filter as you type, in
 * the page, without a request. The server does the same with ?sort= and ?q= (the heading
 * links and the form), so the page works without this script; here the address is kept
 * in step so a sorted, filtered view can still be shared. No inline script: CSP-safe. */
(function () {
  "use strict";
  var table = document.getElementById("na-table");
  if (!table) return;
  var body = table.tBodies[0];
  var filter = document.getElementById("na-filter");
  var count = document.getElementById("na-count");
  var lang = document.documentElement.lang || "en";
  var collator = new Intl.Collator(lang, { numeric: true, sensitivity: "base" });

  function key(text) {
    // lower case, letters and digits only (as the server's search key: Gui'an = guian)
    return (text || "").toLocaleLowerCase().replace(/[\s\p{P}\p{S}]+/gu, "");
  }

  function cellValue(row, index) {
    return row.cells[index].getAttribute("data-value") || "";
  }

  function compare(type, a, b) {
    var emptyA = a === "", emptyB = b === "";
    if (emptyA || emptyB) return emptyA === emptyB ? 0 : (emptyA ? 1 : -1);
    if (type === "number") return parseFloat(a) - parseFloat(b);
    return collator.compare(a, b);
  }

  function setAddress(name, value) {
    var url = new URL(window.location.href);
    if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  function sortBy(th, descending) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var type = th.getAttribute("data-type");
    var rows = Array.prototype.slice.call(body.rows);
    var original = rows.map(function (row, i) { return [row, i]; });
    original.sort(function (x, y) {
      var a = cellValue(x[0], index), b = cellValue(y[0], index);
      var order = compare(type, a, b);
      if (a !== "" && b !== "" && descending) order = -order;
      return order || x[1] - y[1];
    });
    original.forEach(function (pair) { body.appendChild(pair[0]); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var link = th.querySelector("a.sort");
    var name = th.getAttribute("data-key");
    if (link) {
      var next = new URL(link.href, window.location.href);
      next.searchParams.set("sort", descending ? name : "-" + name);
      link.setAttribute("href", next.pathname + next.search);
    }
    var hidden = document.querySelector('form.table-tools input[name="sort"]');
    if (hidden) hidden.value = (descending ? "-" : "") + name;
    setAddress("sort", (descending ? "-" : "") + name);
  }

  function applyFilter() {
    var needle = key(filter.value);
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var hit = !needle || (row.getAttribute("data-search") || "").indexOf(needle) !== -1;
      row.hidden = !hit;
      if (hit) shown += 1;
    });
    if (count) {
      count.textContent = count.getAttribute("data-template")
        .replace("{n}", shown).replace("{total}", count.getAttribute("data-total"));
    }
    setAddress("q", filter.value.trim());
  }

  table.tHead.addEventListener("click", function (event) {
    var link = event.target.closest("a.sort");
    if (!link) return;
    event.preventDefault();
    var th = link.closest("th");
    sortBy(th, th.getAttribute("aria-sort") === "ascending");
  });
  if (filter) {
    filter.addEventListener("input", applyFilter);
    filter.form.addEventListener("submit", function (event) {
      event.preventDefault();
      applyFilter();
    });
  }
})();
