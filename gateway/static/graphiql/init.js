/*
 * Karpov GraphiQL bootstrap (ours, not vendored).
 *
 * Loaded as an external script because the platform's Content-Security-Policy
 * (default-src 'self') forbids inline <script>. Expects, loaded before it:
 * react.production.min.js, react-dom.production.min.js, graphiql.min.js and,
 * optionally, graphiql-plugin-explorer.umd.js.
 *
 * The root element (#graphiql) carries the GraphQL endpoint in data-endpoint.
 * Requests are sent with the browser's cookies (credentials: 'same-origin') and,
 * for double-submit CSRF protection, with an X-CSRF-Token header whose value is
 * read from the csrf_token cookie at request time (so signing in after the page
 * loaded still works).
 */
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  if (!root) {
    return;
  }
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';
  var csrfCookie = root.getAttribute('data-csrf-cookie') || 'csrf_token';
  var csrfHeader = root.getAttribute('data-csrf-header') || 'X-CSRF-Token';

  function showError(message) {
    root.textContent = message;
    root.className = 'karpov-graphiql-error';
  }

  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    showError('GraphiQL assets failed to load.');
    return;
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].replace(/^\s+/, '');
      var eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq) === name) {
        var value = part.slice(eq + 1);
        try {
          return decodeURIComponent(value);
        } catch (e) {
          return value;
        }
      }
    }
    return null;
  }

  // The example in the Headers tab is not a credential. Sent, it would make the server
  // ignore the session cookie accountLogin sets (a header credential wins), so it is
  // dropped until a real token replaces it.
  var PLACEHOLDER_TOKEN = 'paste-a-session-token-or-an-mk_-api-key';

  function sameOriginFetch(input, init) {
    var options = Object.assign({}, init || {});
    var headers = new Headers(options.headers || {});
    var authorization = headers.get('Authorization');
    if (authorization && authorization.indexOf(PLACEHOLDER_TOKEN) !== -1) {
      headers.delete('Authorization');
    }
    var token = readCookie(csrfCookie);
    if (token && !headers.has(csrfHeader)) {
      headers.set(csrfHeader, token);
    }
    options.headers = headers;
    options.credentials = 'same-origin';
    return window.fetch(input, options);
  }

  var fetcher = window.GraphiQL.createFetcher({
    url: endpoint,
    fetch: sameOriginFetch,
  });

  var plugins = [];
  if (window.GraphiQLPluginExplorer && window.GraphiQLPluginExplorer.explorerPlugin) {
    try {
      plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
    } catch (e) {
      if (window.console) {
        window.console.warn('GraphiQL explorer plugin disabled:', e);
      }
    }
  }

  // What a newcomer sees first (only while nothing is stored from an earlier visit).
  var defaultQuery = [
    "# Welcome to Karpov's GraphQL API.",
    '#',
    '# Sign in with the accountLogin mutation (in this browser its session cookie is',
    '# used from then on), or put a token in the Headers tab below, for example',
    '#   {"Authorization": "Bearer <the sid accountLogin returned>"}',
    '#   {"X-API-Key": "mk_..."}',
    '#',
    '# Run a query with the play button (or Ctrl-Enter).',
    'query Start {',
    '  runtimeConfig {',
    '    timezone',
    '  }',
    '  viewer {',
    '    email',
    '    role',
    '  }',
    '}',
    '',
    'mutation SignIn {',
    '  accountLogin(input: {email: "you@example.com", password: "your password"}) {',
    '    result { sid user { email } }',
    '    errors { code message }',
    '  }',
    '}',
    '',
  ].join('\n');
  var defaultHeaders = '{\n  "Authorization": "Bearer ' + PLACEHOLDER_TOKEN + '"\n}\n';

  var element = window.React.createElement(window.GraphiQL, {
    fetcher: fetcher,
    shouldPersistHeaders: true,
    defaultQuery: defaultQuery,
    defaultHeaders: defaultHeaders,
    defaultEditorToolsVisibility: 'headers',
    plugins: plugins,
  });
  window.ReactDOM.createRoot(root).render(element);
})();
