// Progressive enhancement for object forms; every flow also works without JavaScript.
(function () {
  "use strict";

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s_-]/g, "").trim().replace(/[\s_-]+/g, "-").replace(/^-+|-+$/g, "");
  }

  // Fill the slug from the name until the user edits the slug by hand.
  document.querySelectorAll("input[data-slug-source]").forEach(function (slug) {
    var source = slug.form && slug.form.elements[slug.dataset.slugSource];
    if (!source) return;
    var touched = slug.value !== "" && slug.value !== slugify(source.value);
    slug.addEventListener("input", function () { touched = slug.value !== ""; });
    source.addEventListener("input", function () {
      if (!touched) slug.value = slugify(source.value);
    });
  });

  // A changed parent (e.g. site) re-renders the form so dependent pickers offer valid choices only.
  document.querySelectorAll("[data-refresh-form]").forEach(function (field) {
    field.addEventListener("change", function () {
      var button = field.form && field.form.querySelector("button[name=_refresh]");
      if (button) button.click();
    });
  });
})();
