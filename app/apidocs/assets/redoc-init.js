// Starts ReDoc on the page that loads it; the page names the OpenAPI
// document in data-openapi (no inline script: the page's CSP allows none).
"use strict";
(function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapi, {}, root);
})();
