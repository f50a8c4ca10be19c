/*
 * Karpov Swagger UI bootstrap (ours, not vendored).
 *
 * An external script because the platform's Content-Security-Policy (default-src 'self')
 * forbids inline <script>. Expects swagger-ui-bundle.js loaded before it.
 *
 * The root element (#swagger-ui) carries the document's URL in data-url. Nothing leaves
 * this origin: the online validator is off (validatorUrl: null). "Try it out" sends the
 * browser's cookies and, for the double-submit CSRF check of /v1, an X-CSRF-Token header
 * read from the csrf_token cookie at request time (signing in on the page then works).
 */
(function () {
  'use strict';

  var root = document.getElementById('swagger-ui');
  if (!root) {
    return;
  }
  if (!window.SwaggerUIBundle) {
    root.textContent = 'Swagger UI assets failed to load.';
    return;
  }
  var url = root.getAttribute('data-url') || '/v1/docs/openapi.json';

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].replace(/^\s+/, '');
      var eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq) === name) {
        try {
          return decodeURIComponent(part.slice(eq + 1));
        } catch (e) {
          return part.slice(eq + 1);
        }
      }
    }
    return null;
  }

  root.textContent = '';
  window.ui = window.SwaggerUIBundle({
    url: url,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false,
    withCredentials: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    requestInterceptor: function (request) {
      var method = (request.method || 'GET').toUpperCase();
      var token = readCookie('csrf_token');
      if (token && method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
        request.headers['X-CSRF-Token'] = token;
      }
      return request;
    }
  });
})();
