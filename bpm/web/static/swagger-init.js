// Starts Swagger UI on the API document named by the page (kept out of the HTML: the CSP allows no inline script).
// Calls made from it carry the session's cookie; "Authorize" takes a bearer token instead.
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui-container",
    deepLinking: true,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      if (!request.headers.Authorization) { request.headers["X-CSRF-Token"] = node.getAttribute("data-csrf"); }
      return request;
    }
  });
});
