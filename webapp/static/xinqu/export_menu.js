// The export menu (_export_menu.html): the formats the chosen layer supports. With "all
// layers" the formats that hold one layer are disabled; choosing a layer enables them. The
// CSV geometry box shows only for CSV. Without this script the form still works.
(function () {
  "use strict";
  function update(form) {
    var layer = form.querySelector("select[name=layer]");
    var format = form.querySelector("select[name=format]");
    if (!format) { return; }
    var all = layer ? layer.value === "all" : false;
    Array.prototype.forEach.call(format.options, function (option) {
      if (option.hasAttribute("data-one-layer")) {
        option.disabled = all;
        var title = option.getAttribute("data-title");
        option.textContent = all ? title + " (" + option.getAttribute("data-one-layer") + ")" : title;
      }
    });
    if (format.selectedOptions.length && format.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(format.options, function (o) { return !o.disabled; });
      if (first) { format.value = first.value; }
    }
    var csv = form.querySelector("[data-export-csv]");
    if (csv) {
      // Not `hidden`: the site's label styles would override it.
      var off = format.value !== "csv";
      csv.style.display = off ? "none" : "";
      var box = csv.querySelector("input");
      if (box && off) { box.checked = false; }
    }
  }
  function init() {
    document.querySelectorAll("form[data-export-menu]").forEach(function (form) {
      if (form.hasAttribute("data-export-ready")) { return; }
      form.setAttribute("data-export-ready", "");
      form.addEventListener("change", function () { update(form); });
      update(form);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
