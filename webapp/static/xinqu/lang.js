/* The language switch keeps the page's state: when a script is chosen, its link is
 * rebuilt from the address the page has now (the map rewrites its own address as it is
 * used), with only `lang` changed. Without this script the links still switch language. */
(function () {
  "use strict";
  function withLang(href, code) {
    var url = new URL(href);
    url.searchParams.set("lang", code);
    return url.pathname + url.search + url.hash;
  }
  function update(link) {
    link.setAttribute("href", withLang(window.location.href, link.getAttribute("hreflang")));
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.lang-option[hreflang]");
    if (link) update(link);
  }, true);
  document.addEventListener("focusin", function (event) {
    var link = event.target.closest && event.target.closest("a.lang-option[hreflang]");
    if (link) update(link);
  });
})();
