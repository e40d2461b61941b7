// Progressive enhancement for lists; without JavaScript the page-size button and row boxes still work.
(function () {
  "use strict";

  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // The header box of the selection column selects or clears every row of the page.
  document.querySelectorAll("table.object-table th.select input[type=checkbox]").forEach(function (all) {
    all.addEventListener("change", function () {
      all.closest("table").querySelectorAll("td input[type=checkbox][name=pk]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
