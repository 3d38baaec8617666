import { test as base, expect, request as playwrightRequest, type APIRequestContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { SANDBOX_URL } from '../playwright.config';

/**
 * Every test fails on an uncaught page error, a console error or any 5xx response: a
 * broken WASM bundle still renders on the server, so only this catches it. Chrome also
 * logs every 4xx answer as a console error; those are expected (a 404 page, a 422 for a
 * form with mistakes) and asserted by the tests themselves.
 */
export const test = base.extend<{ errors: string[]; api: APIRequestContext }>({
  // The JSON API as automation uses it: an admin's API token, no cookies.
  api: async ({ baseURL }, use) => {
    const token = readFileSync('.auth/token.txt', 'utf8').trim();
    const api = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
    await use(api);
    await api.dispose();
  },
  errors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        const expected4xx = /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text());
        if (m.type() === 'error' && !expected4xx) errors.push(`console: ${m.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 500) errors.push(`${r.status()} from ${r.request().method()} ${r.url()}`);
      });
      await use(errors);
      expect(errors, 'the page reported errors').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** A name no other test uses, so tests can run in parallel against one server. */
export function unique(prefix: string): string {
  return `${prefix} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Opens a page and, when JavaScript runs, waits until the app has hydrated. */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  const js = await page.evaluate(() => true).catch(() => false);
  if (js) await page.locator('body[data-hydrated="true"]').waitFor();
}

/** The platform forms, by their labels. */
export class PlatformForm {
  constructor(private readonly page: Page) {}

  async fill(fields: {
    name?: string;
    category?: string;
    authType?: string;
    status?: string;
    description?: string;
    baseUrl?: string;
    metadata?: string;
  }): Promise<void> {
    const p = this.page;
    if (fields.name !== undefined) await p.getByLabel('Name').fill(fields.name);
    if (fields.category) await p.getByLabel('Category').selectOption({ label: fields.category });
    if (fields.authType) await p.getByLabel('Auth type').selectOption({ label: fields.authType });
    if (fields.status) await p.getByLabel('Status').selectOption({ label: fields.status });
    if (fields.description !== undefined) await p.getByLabel('Description').fill(fields.description);
    if (fields.baseUrl !== undefined) await p.getByLabel('Base URL').fill(fields.baseUrl);
    if (fields.metadata !== undefined) await p.getByLabel('Metadata (JSON)').fill(fields.metadata);
  }
}

/** A platform of `provider` whose endpoints point at the sandbox's personality of it. */
export async function platformAt(api: APIRequestContext, request: APIRequestContext, provider: string, endpoints: Record<string, string>) {
  const name = unique(provider);
  const platform = (await (await api.post('/api/platforms', { data: { name, auth_type: 'oauth2', category: 'social' } })).json()).platform;
  const redirect = (await (await api.get(`/api/platforms/${platform.id}/oauth`)).json()).oauth.redirect_uri;
  const client = await (await request.post(`${SANDBOX_URL}/register`, { data: { client_name: 'Keyport', redirect_uris: [redirect] } })).json();
  expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: { provider, client_id: client.client_id, ...endpoints } })).status()).toBe(200);
  expect((await api.put(`/api/platforms/${platform.id}/secrets/client_secret`, { data: { value: client.client_secret } })).ok()).toBe(true);
  return { id: platform.id as string, name };
}


/** A Reddit platform whose endpoints point at the sandbox's Reddit personality. */
export async function redditPlatform(api: APIRequestContext, request: APIRequestContext) {
  const base = `${SANDBOX_URL}/reddit`;
  return platformAt(api, request, 'reddit', {
    authorize_url: `${base}/api/v1/authorize`, token_url: `${base}/api/v1/access_token`, revoke_url: `${base}/api/v1/revoke_token`,
    userinfo_url: `${base}/api/v1/me`, api_base_url: base,
  });
}

/**
 * Connects an account on the platform page through the sandbox's consent page, signed in
 * there as `name`; returns the account's item in the Accounts list (named `shown`: by
 * default its handle, as the personalities name accounts; the sandbox itself shows `name`).
 */
export async function connectAccount(page: Page, platformId: string, name: string, shown = name.toLowerCase().replaceAll(' ', '-')) {
  await open(page, `/platforms/${platformId}`);
  const accounts = page.getByRole('region', { name: 'Accounts' });
  await accounts.getByRole('button', { name: /^Connect (an|another) account$/ }).click();
  await page.getByLabel('Account name').fill(name);
  await page.getByRole('button', { name: 'Approve' }).click();
  const account = accounts.getByRole('listitem', { name: shown });
  await expect(account.getByText('Connected', { exact: true })).toBeVisible();
  return account;
}
