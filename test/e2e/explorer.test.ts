import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack';

/**
 * The local explorer in a real browser (Debian's chromium, headless), with every request beyond the loopback
 * interface cut, as on an air-gapped network: a person signs in with the demo account, pastes the token in the
 * headers editor and runs the README's cross-subgraph query.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let stack: Stack;
let browser: Browser;
let page: Page;
/** Every request the page made beyond localhost (each one refused). */
const outside: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  stack = await startStack();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  page = await context.newPage();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Resolves once the result pane shows `text`. */
const resultShows = (text: string) => page.locator('.result-window').filter({ hasText: text }).waitFor();

/** The text in one of GraphiQL's editors (CodeMirror keeps its instance on its element). */
const editorText = (selector: string) =>
  page
    .locator(`${selector} .CodeMirror`)
    .first()
    .evaluate((element) => (element as any).CodeMirror.getValue() as string);

it('offline, the landing page links to the local explorer', async () => {
  await page.goto(stack.gatewayUrl, { waitUntil: 'domcontentloaded' });
  const link = page.getByRole('link', { name: /local explorer/ });
  await link.waitFor({ state: 'visible', timeout: 15_000 });
  // Apollo Sandbox comes from Apollo's CDN: refused here, which is why the link is needed.
  expect(outside.some((url) => url.includes('apollographql.com'))).toBe(true);
  await link.click();
  await page.waitForURL(/\/explorer$/);
});

it('signs in, takes the token in the headers editor and runs the cross-subgraph query, with no request beyond localhost', async () => {
  outside.length = 0;
  await page.goto(stack.gatewayUrl.replace(/\/graphql$/, '/explorer'), { waitUntil: 'load' });
  await page.locator('.graphiql-container').waitFor({ timeout: 15_000 });

  // The first tab holds the sign-in mutation for the demo member.
  expect(await editorText('.graphiql-query-editor')).toContain('member@acme.example');
  await page.locator('.graphiql-execute-button').click();
  await resultShows('accessToken');
  const signIn = JSON.parse(await editorText('.result-window'));
  const token: string = signIn.data.login.accessToken;
  expect(token.split('.')).toHaveLength(3);

  // The second tab holds the README's query; its headers editor says where the token goes.
  await page.getByRole('tab', { name: /Complaint/ }).click();
  await page.getByRole('button', { name: 'Headers' }).click();
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
  expect(await headers.evaluate((element) => (element as any).CodeMirror.getValue())).toContain('<paste accessToken here>');
  await headers.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
  await page.keyboard.press('Home');

  await page.locator('.graphiql-execute-button').click();
  await resultShows('filedBy');
  const result = JSON.parse(await editorText('.result-window'));
  expect(result.errors).toBeUndefined();
  expect(result.data.complaint).toMatchObject({
    subject: expect.any(String),
    filedBy: { displayName: expect.any(String), records: { nodes: expect.any(Array) } },
  });
  expect(result.data.complaint.filedBy.records.nodes.length).toBeGreaterThan(0);

  if (process.env.EXPLORER_SCREENSHOT) await page.screenshot({ path: process.env.EXPLORER_SCREENSHOT });
  expect(outside).toEqual([]);
  // Headers are never persisted: the token is not left in the browser's storage.
  const stored = await page.evaluate(() => JSON.stringify({ ...(globalThis as any).localStorage }));
  expect(stored).not.toContain(token);
});

it("runs a subscription over SSE with the headers editor's token, and ends it when stopped", async () => {
  outside.length = 0;
  const token = await stack.login('member@acme.example', 'acme');
  await page.getByRole('tab', { name: /LiveUpdates/ }).click();
  await page.getByRole('button', { name: 'Headers' }).click();
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
  await headers.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
  await page.locator('.graphiql-execute-button').click();
  for (let i = 0; i < 100 && stack.gateway.subscriptions.size.subscriptions === 0; i += 1) await page.waitForTimeout(50);
  expect(stack.gateway.subscriptions.size.subscriptions).toBe(1);

  const filed = await stack.gql('mutation { fileComplaint(input: { subject: "Seen live", description: "In the explorer" }) { id } }', {
    token,
  });
  await resultShows('Seen live');
  const result = JSON.parse(await editorText('.result-window'));
  expect(result.data.complaintUpdated).toMatchObject({ id: filed.body.data.fileComplaint.id, subject: 'Seen live', status: 'OPEN' });

  // Stopping it in GraphiQL ends the request, and with it the subscription on the gateway.
  await page.locator('.graphiql-execute-button').click();
  for (let i = 0; i < 100 && stack.gateway.subscriptions.size.subscriptions > 0; i += 1) await page.waitForTimeout(50);
  expect(stack.gateway.subscriptions.size.subscriptions).toBe(0);
  expect(outside).toEqual([]);
});

it('is not served in production', async () => {
  const production = await stack.addGateway({ NODE_ENV: 'production', CONTEXT_SIGNING_SECRET: stack.contextSecret });
  const explorer = await fetch(production.url.replace(/\/graphql$/, '/explorer'));
  expect(explorer.status).toBe(404);
  const script = await fetch(production.url.replace(/\/graphql$/, '/explorer/graphiql.js'));
  expect(script.status).toBe(404);
});
