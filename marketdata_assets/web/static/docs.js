// The API's documentation: the vendored Swagger UI over the app's own OpenAPI document.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // No "try it out" POSTs exist, and no validator badge: it would call swagger.io.
  validatorUrl: null,
});
