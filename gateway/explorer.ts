import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance } from 'fastify';

/**
 * A GraphQL explorer that needs no network beyond the gateway: GraphiQL and React from their npm packages (development
 * dependencies), served by the gateway in development at /explorer. Apollo Sandbox, the landing page at /graphql,
 * loads from Apollo's CDN and cannot be used offline; its offline fallback links here.
 */
export const EXPLORER_PATH = '/explorer';

/** The demo sign-in, the README's cross-subgraph query and a subscription, each in its own tab. */
const LOGIN = /* GraphQL */ `
  # Sign in as a demo user, then copy accessToken into the Headers editor of the next tab.
  mutation SignIn {
    login(input: { email: "member@acme.example", password: "gatehouse-demo", tenant: "acme" }) {
      ... on AuthSession {
        accessToken
        expiresIn
      }
      ... on TwoFactorChallenge {
        challengeId
        methods
      }
    }
  }
`;
const COMPLAINT = /* GraphQL */ `
  # complaints -> users (the filer) -> records (their records) -> users (each owner)
  query Complaint {
    complaint(id: "00000001-0002-4000-8000-000000000001") {
      subject
      filedBy {
        displayName
        records {
          nodes {
            title
            owner {
              displayName
            }
          }
        }
      }
    }
  }
`;
const LIVE = /* GraphQL */ `
  # Live updates over SSE, with the token of the Headers editor: file or change a complaint, and it shows here.
  subscription LiveUpdates {
    complaintUpdated {
      id
      subject
      status
      filedBy {
        displayName
      }
    }
  }
`;
/** The text of a tagged template as a person would type it: no leading newline, no indentation from the source. */
const dedent = (text: string) => text.replace(/^\n/, '').replace(/^ {2}/gm, '');
const HEADERS_HINT = '{\n  "Authorization": "Bearer <paste accessToken here>"\n}';

// The page runs no inline script, so that its policy can forbid every script but the gateway's own files.
// GraphiQL keeps tabs and history in localStorage, and its history keeps each query's headers even with
// shouldPersistHeaders off: no value is written with a "headers" field, so a bearer token never reaches the disk.
const bootScript = `'use strict';
const withoutHeaders = (value) => {
  try {
    return JSON.stringify(JSON.parse(value, (key, item) => (key === 'headers' ? undefined : item)));
  } catch {
    return value;
  }
};
const ownKeys = () => Object.keys(localStorage).filter((key) => key.startsWith('graphiql:'));
const storage = {
  getItem: (key) => localStorage.getItem(key),
  setItem: (key, value) => localStorage.setItem(key, withoutHeaders(value)),
  removeItem: (key) => localStorage.removeItem(key),
  clear: () => ownKeys().forEach((key) => localStorage.removeItem(key)),
  get length() {
    return ownKeys().length;
  },
};
// Subscriptions go to the gateway's SSE endpoint (graphql-sse, one subscription per request) with the Headers
// editor's headers; stopping one in GraphiQL ends its request.
const overHttp = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).href });
const streamUrl = new URL('/graphql/stream', window.location.href).href;
async function* readStream(params, headers, signal) {
  try {
    const response = await fetch(streamUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(params),
      signal,
    });
    if (!response.ok || !response.body) {
      yield await response.json();
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\\n\\n'); end !== -1; end = buffer.indexOf('\\n\\n')) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = (/^event: ?(.*)$/m.exec(message) || [])[1];
        const data = message.split('\\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\\n');
        if (event === 'complete') return;
        if (event === 'next' && data) yield JSON.parse(data);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
// GraphiQL's stop calls return(): it must end the request at once, even while the stream is quiet.
const overSse = (params, headers) => {
  const controller = new AbortController();
  const results = readStream(params, headers, controller.signal);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => results.next(),
    return: () => {
      controller.abort();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
};
const isSubscription = (params, documentAST) => {
  const operations = ((documentAST && documentAST.definitions) || []).filter((definition) => definition.kind === 'OperationDefinition');
  const operation = operations.find((definition) => definition.name && definition.name.value === params.operationName) || operations[0];
  return Boolean(operation && operation.operation === 'subscription');
};
const fetcher = (params, options = {}) =>
  isSubscription(params, options.documentAST) ? overSse(params, options.headers || {}) : overHttp(params, options);
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    storage,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
    defaultTabs: ${JSON.stringify([
      { query: dedent(LOGIN), headers: '' },
      { query: dedent(COMPLAINT), headers: HEADERS_HINT },
      { query: dedent(LIVE), headers: HEADERS_HINT },
    ])},
  }),
);
`;

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Gatehouse explorer</title>
    <link rel="stylesheet" href="${EXPLORER_PATH}/graphiql.css" />
    <link rel="stylesheet" href="${EXPLORER_PATH}/explorer.css" />
  </head>
  <body>
    <div id="graphiql">Loading the explorer…</div>
    <script src="${EXPLORER_PATH}/react.js"></script>
    <script src="${EXPLORER_PATH}/react-dom.js"></script>
    <script src="${EXPLORER_PATH}/graphiql.js"></script>
    <script src="${EXPLORER_PATH}/explorer.js"></script>
  </body>
</html>
`;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // GraphiQL and its editors set style attributes at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The directory of an installed package, or undefined when it is not installed (a production install). */
function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    try {
      return dirname(require.resolve(name));
    } catch {
      return undefined;
    }
  }
}

/** The files the page loads, by name: read once, from the installed packages. Undefined when one is missing. */
function loadAssets(): Map<string, { type: string; body: string | Buffer }> | undefined {
  const react = packageDir('react');
  const reactDom = packageDir('react-dom');
  const graphiql = packageDir('graphiql');
  if (!react || !reactDom || !graphiql) return undefined;
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  try {
    return new Map<string, { type: string; body: string | Buffer }>([
      ['react.js', { type: js, body: readFileSync(join(react, 'umd/react.production.min.js')) }],
      ['react-dom.js', { type: js, body: readFileSync(join(reactDom, 'umd/react-dom.production.min.js')) }],
      ['graphiql.js', { type: js, body: readFileSync(join(graphiql, 'graphiql.min.js')) }],
      ['graphiql.css', { type: css, body: readFileSync(join(graphiql, 'graphiql.min.css')) }],
      ['explorer.css', { type: css, body: 'html, body, #graphiql { height: 100%; margin: 0; }\n' }],
      ['explorer.js', { type: js, body: bootScript }],
    ]);
  } catch {
    return undefined;
  }
}

/**
 * Serves the explorer at /explorer. Returns false, registering nothing, when GraphiQL or React is not installed (an
 * image built with production dependencies only).
 */
export function registerExplorer(app: FastifyInstance): boolean {
  const assets = loadAssets();
  if (!assets) return false;
  const headers = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  app.get(EXPLORER_PATH, async (_request, reply) => reply.headers(headers).type('text/html; charset=utf-8').send(page));
  app.get<{ Params: { file: string } }>(`${EXPLORER_PATH}/:file`, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).type('text/plain').send('Not found');
    return reply.headers(headers).header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });
  return true;
}

/**
 * Apollo's landing page with a way out when it cannot load Sandbox: its offline message links to the local explorer.
 */
export function withExplorerLink(landingPage: ApolloServerPlugin): ApolloServerPlugin {
  const link = `<p><a href="${EXPLORER_PATH}">Open the local explorer (GraphiQL)</a>: it works offline.</p>`;
  return {
    async serverWillStart(service) {
      const listener = await landingPage.serverWillStart?.(service);
      if (!listener?.renderLandingPage) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        async renderLandingPage() {
          const landing = await render();
          return {
            html: async () => {
              const html = typeof landing.html === 'string' ? landing.html : await landing.html();
              // Until Sandbox loads, its empty container covers the page: clicks must reach the link. The page's
              // policy allows only styles with its nonce.
              const nonce = /<style nonce=([0-9a-f]+)>/.exec(html)?.[1];
              const style = nonce ? `<style nonce=${nonce}>#embeddableSandbox:empty { pointer-events: none; }</style>` : '';
              return html.replace(/(<div class="fallback">[\s\S]*?<\/p>)/, `$1\n  ${link}${style}`);
            },
          };
        },
      };
    },
  };
}
