import { test, expect, open, unique } from './fixtures';
import { SANDBOX_URL } from '../playwright.config';

// The demo path: the "Sandbox" platform Keyport seeded at start, connected by a marketer
// through keyport-sandbox's real consent page.
test.describe('OAuth connect as a marketer', () => {
  // One shared Sandbox platform: these run one after the other.
  test.describe.configure({ mode: 'serial' });
  test.use({ storageState: '.auth/marketer.json' });

  test('connects the Sandbox platform, then re-authenticates after the grant is revoked', async ({ page, api, request }) => {
    await open(page, '/platforms?q=Sandbox');
    await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
    await page.locator('body[data-hydrated="true"]').waitFor();
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await expect(accounts).toContainText('No Sandbox account connected yet.');
    await expect(page.getByRole('region', { name: 'OAuth settings' }), 'client settings are for admins').toHaveCount(0);

    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await expect(page.getByRole('heading', { name: 'Authorize Keyport' })).toBeVisible();
    expect(page.url().startsWith(`${SANDBOX_URL}/authorize?`)).toBe(true);
    await page.getByLabel('Account name').fill('E2E Marketing');
    await page.getByRole('button', { name: 'Approve' }).click();

    await expect(page.getByRole('status').getByText('Connected. The tokens are stored encrypted')).toBeVisible();
    const marketing = accounts.getByRole('listitem', { name: 'E2E Marketing' });
    await expect(marketing.getByText('Connected', { exact: true })).toBeVisible();
    await expect(page.getByText('Encrypted (current key v2)').first()).toBeVisible();
    const html = await page.content();
    expect(html).not.toMatch(/sbx_(at|rt|code)_/);

    // The provider revokes the grant; the next use of the token finds out.
    expect((await request.post(`${SANDBOX_URL}/admin/revoke-all?account=E2E%20Marketing`)).status()).toBe(204);
    const id = page.url().split('/platforms/')[1].split('?')[0];
    const listed = await (await api.get(`/api/platforms/${id}/accounts`)).json();
    const check = await api.post(`/api/platforms/${id}/accounts/${listed.accounts[0].id}/token`, { data: {} });
    expect(check.status()).toBe(503);

    await open(page, `/platforms/${id}`);
    await expect(marketing.getByRole('alert')).toContainText('re-authentication required');
    await expect(marketing.getByText('Needs attention', { exact: true })).toBeVisible();
    await expect(page.getByText('Error', { exact: true }).first()).toBeVisible();
    await accounts.getByRole('button', { name: 'Re-authenticate E2E Marketing' }).click();
    await page.getByLabel('Account name').fill('E2E Marketing');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(marketing.getByText('Connected', { exact: true })).toBeVisible();
    await expect(accounts.getByRole('alert')).toHaveCount(0);
    expect(await page.content()).not.toMatch(/sbx_(at|rt|code)_/);
  });

  test('a second account lives under the same platform and is disconnected on its own', async ({ page }) => {
    await open(page, '/platforms?q=Sandbox');
    await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await accounts.getByRole('button', { name: 'Connect another account' }).click();
    await page.getByLabel('Account name').fill('E2E Second Brand');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(accounts.getByRole('listitem')).toHaveCount(2);
    await expect(accounts.getByRole('listitem', { name: 'E2E Second Brand' }).getByText('Connected', { exact: true })).toBeVisible();

    await open(page, '/posts');
    const choices = page.getByRole('group', { name: 'Sandbox', exact: true });
    await expect(choices.getByRole('checkbox')).toHaveCount(2);
    await expect(choices.getByRole('checkbox', { name: /^E2E Second Brand/ })).toBeVisible();

    await open(page, '/platforms?q=Sandbox');
    await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
    await accounts.getByRole('button', { name: 'Disconnect E2E Second Brand' }).click();
    await expect(page.getByRole('status')).toContainText(/[Dd]isconnected/);
    await expect(accounts.getByRole('listitem')).toHaveCount(1);
    await expect(accounts.getByRole('listitem', { name: 'E2E Marketing' })).toBeVisible();
  });

  test('publishes a post to the Sandbox and shows the link', async ({ page, context }) => {
    await open(page, '/posts');
    const text = `Launch day ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('checkbox', { name: /^E2E Marketing/ }).check();
    await expect(page.getByText(`E2E Marketing (Sandbox): ${text.length} / 500`)).toBeVisible();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const post = page.getByRole('article', { name: `Post: ${text}` });
    const row = post.getByRole('row', { name: /Sandbox/ });
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    const link = row.getByRole('link', { name: 'View post' });
    const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await expect(tab.getByText(text)).toBeVisible();
    await tab.close();
  });

  test('a failed delivery shows the error and succeeds on Retry', async ({ page, request }) => {
    // The next two publish calls fail: the first attempt and its automatic retry.
    expect((await request.post(`${SANDBOX_URL}/faults`, { data: { endpoint: 'posts', mode: '500', count: 2 } })).status()).toBe(204);
    await open(page, '/posts');
    const text = `Retry me ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('checkbox', { name: /^E2E Marketing/ }).check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const row = page.getByRole('article', { name: `Post: ${text}` }).getByRole('row', { name: /Sandbox/ });
    await expect(row.getByText('failed', { exact: true })).toBeVisible({ timeout: 20_000 });
    await expect(row).toContainText('the provider failed (HTTP 500)');
    await expect(row).toContainText('press Retry');
    await row.getByRole('button', { name: 'Retry E2E Marketing on Sandbox' }).click();
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
  });

  test('denying at the provider explains what happened and stores nothing', async ({ page }) => {
    await open(page, '/platforms?q=Sandbox');
    await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await accounts.getByRole('button', { name: /^Connect/ }).click();
    await page.getByRole('button', { name: 'Deny' }).click();
    await expect(page.getByText('Access was not granted at the provider')).toBeVisible();
  });
});

test('an admin sees the exact redirect URI to register, with a copy button', async ({ page }) => {
  await open(page, '/platforms?q=Sandbox');
  await page.getByRole('link', { name: 'Sandbox', exact: true }).click();
  await page.locator('body[data-hydrated="true"]').waitFor();
  const settings = page.getByRole('region', { name: 'OAuth settings' });
  const uri = settings.getByLabel('Redirect URI');
  await expect(uri).toHaveValue(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/[0-9a-f-]{36}\/callback$/);
  await expect(settings.getByLabel('Provider')).toHaveValue('sandbox');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await settings.getByRole('button', { name: 'Copy' }).click();
  await expect(settings.getByRole('button', { name: 'Copied' })).toBeVisible();
});

test('a new platform can start from a catalog provider', async ({ page }) => {
  await open(page, '/platforms/new');
  await page.getByLabel('Start from a provider').selectOption({ label: 'Mastodon' });
  await page.getByRole('button', { name: 'Use this provider' }).click();
  await expect(page.getByLabel('Name')).toHaveValue('Mastodon');
  await expect(page.getByLabel('Auth type')).toHaveValue('oauth2');
});

test.describe('Mastodon on any instance', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('a marketer connects an account by typing the instance; Keyport registers itself there', async ({ page, api }) => {
    const name = unique('Mastodon');
    const created = await api.post('/api/platforms', { data: { name, auth_type: 'oauth2', category: 'social' } });
    const platform = (await created.json()).platform;
    expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: { provider: 'mastodon' } })).status()).toBe(200);

    await open(page, `/platforms/${platform.id}`);
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await expect(accounts).toContainText('No Mastodon account connected yet.');
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await expect(accounts.getByLabel('Instance')).toBeFocused();

    await accounts.getByLabel('Instance').fill('mastodon.social/@someone');
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await expect(page.getByRole('status')).toContainText('not an instance address');

    await accounts.getByLabel('Instance').fill(SANDBOX_URL);
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await expect(page.getByRole('heading', { name: 'Authorize Keyport' })).toBeVisible();
    expect(page.url().startsWith(`${SANDBOX_URL}/oauth/authorize?`)).toBe(true);
    await page.getByLabel('Account name').fill('E2E Toot');
    await page.getByRole('button', { name: 'Approve' }).click();

    const host = new URL(SANDBOX_URL).hostname;
    const account = accounts.getByRole('listitem', { name: `e2e-toot@${host}` });
    await expect(account.getByText('Connected', { exact: true })).toBeVisible();
    await open(page, '/posts');
    await expect(page.getByRole('group', { name }).getByRole('checkbox', { name: new RegExp(`^e2e-toot@${host}`) })).toBeVisible();
  });
});

test.describe('Facebook Pages through the Page picker', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('a marketer picks two Pages, publishes to both, and disconnects one', async ({ page, api, request }) => {
    // An admin's Facebook platform, its endpoints pointed at the sandbox's Meta personality.
    const name = unique('Facebook');
    const platform = (await (await api.post('/api/platforms', { data: { name, auth_type: 'oauth2', category: 'social' } })).json()).platform;
    const redirect = (await (await api.get(`/api/platforms/${platform.id}/oauth`)).json()).oauth.redirect_uri;
    const client = await (await request.post(`${SANDBOX_URL}/register`, { data: { client_name: 'Keyport', redirect_uris: [redirect] } })).json();
    const graph = `${SANDBOX_URL}/meta/v25.0`;
    const settings = { provider: 'facebook_pages', client_id: client.client_id, authorize_url: `${graph}/dialog/oauth`, token_url: `${graph}/oauth/access_token`, userinfo_url: `${graph}/me`, api_base_url: graph };
    expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: settings })).status()).toBe(200);
    expect((await api.put(`/api/platforms/${platform.id}/secrets/client_secret`, { data: { value: client.client_secret } })).ok()).toBe(true);

    await open(page, `/platforms/${platform.id}`);
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    expect(page.url().startsWith(`${graph}/dialog/oauth?`)).toBe(true);
    await expect(page.getByLabel('business_management')).toBeChecked();
    await page.getByLabel('Account name').fill('Pat Baker');
    await page.getByRole('button', { name: 'Approve' }).click();

    // Keyport's picker: every Page offered, none connected yet, no token on the page.
    await expect(page.getByRole('heading', { name: 'Choose Facebook Pages' })).toBeVisible();
    const pages = page.getByRole('group', { name: 'Pages' });
    await expect(pages.getByRole('checkbox')).toHaveCount(3);
    await expect(pages).toContainText('Through Pat Baker Business');
    expect(await page.content()).not.toMatch(/sbx_(page|at)_/);
    await pages.getByRole('checkbox', { name: /Sandbox Books/ }).uncheck();
    await page.getByRole('button', { name: 'Connect selected Pages' }).click();

    await expect(page.getByRole('status')).toContainText('Pages connected');
    await expect(accounts.getByRole('listitem')).toHaveCount(2);
    for (const pageName of ['Sandbox Bakery', 'Sandbox Agency Client']) {
      await expect(accounts.getByRole('listitem', { name: pageName }).getByText('Connected', { exact: true })).toBeVisible();
    }

    await open(page, '/posts');
    const text = `Fresh bread ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    const group = page.getByRole('group', { name });
    await group.getByRole('checkbox', { name: /^Sandbox Bakery/ }).check();
    await group.getByRole('checkbox', { name: /^Sandbox Agency Client/ }).check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const post = page.getByRole('article', { name: `Post: ${text}` });
    for (const pageName of ['Sandbox Bakery', 'Sandbox Agency Client']) {
      await expect(post.getByRole('row', { name: new RegExp(pageName) }).getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    }

    await open(page, `/platforms/${platform.id}`);
    await accounts.getByRole('button', { name: 'Disconnect Sandbox Bakery' }).click();
    await expect(page.getByRole('status')).toContainText(/[Dd]isconnected/);
    await expect(accounts.getByRole('listitem')).toHaveCount(1);
    await expect(accounts.getByRole('listitem', { name: 'Sandbox Agency Client' })).toBeVisible();
  });
});

test.describe('LinkedIn\'s API version', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('a retired version is named as the platform\'s setting, not the post\'s fault', async ({ page, api, request }) => {
    const name = unique('LinkedIn');
    const platform = (await (await api.post('/api/platforms', { data: { name, auth_type: 'oauth2', category: 'social' } })).json()).platform;
    const redirect = (await (await api.get(`/api/platforms/${platform.id}/oauth`)).json()).oauth.redirect_uri;
    const client = await (await request.post(`${SANDBOX_URL}/register`, { data: { client_name: 'Keyport', redirect_uris: [redirect] } })).json();
    const base = `${SANDBOX_URL}/linkedin`;
    const settings = (api_version: string) => ({ provider: 'linkedin', client_id: client.client_id, authorize_url: `${base}/oauth/v2/authorization`, token_url: `${base}/oauth/v2/accessToken`, userinfo_url: `${base}/v2/userinfo`, api_base_url: base, api_version });
    expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: settings('') })).status()).toBe(200);
    expect((await api.put(`/api/platforms/${platform.id}/secrets/client_secret`, { data: { value: client.client_secret } })).ok()).toBe(true);

    await open(page, `/platforms/${platform.id}`);
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await page.getByLabel('Account name').fill('Lee Member');
    await page.getByRole('button', { name: 'Approve' }).click();
    const member = accounts.getByRole('listitem', { name: 'Lee Member' });
    await expect(member.getByText('Connected', { exact: true })).toBeVisible();
    await expect(member).toContainText('none: the provider issues none');

    // An admin left the platform on a version LinkedIn has retired.
    expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: settings('202401') })).status()).toBe(200);
    await open(page, '/posts');
    const text = `We are hiring ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('group', { name }).getByRole('checkbox', { name: /^Lee Member/ }).check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const row = page.getByRole('article', { name: `Post: ${text}` }).getByRole('row', { name: /Lee Member/ });
    await expect(row.getByText('failed', { exact: true })).toBeVisible({ timeout: 15_000 });
    await expect(row).toContainText('LinkedIn no longer accepts API version 202401: an admin must set a newer version');
    await expect(row).toContainText('the post itself is fine');
  });
});

test.describe('Bluesky with an app password', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('a marketer signs in with a handle and an app password, then publishes a link', async ({ page, api }) => {
    const name = unique('Bluesky');
    const platform = (await (await api.post('/api/platforms', { data: { name, auth_type: 'oauth2', category: 'social' } })).json()).platform;
    const settings = { provider: 'bluesky', api_base_url: SANDBOX_URL };
    expect((await api.put(`/api/platforms/${platform.id}/oauth`, { data: settings })).status()).toBe(200);

    await open(page, `/platforms/${platform.id}`);
    const accounts = page.getByRole('region', { name: 'Accounts' });
    await accounts.getByLabel('Handle').fill('e2e.bsky.test');
    await accounts.getByLabel('App password').fill('not an app password');
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    await expect(page.getByRole('status')).toContainText('Bluesky refused the handle or the app password');

    await accounts.getByLabel('Handle').fill('e2e.bsky.test');
    await accounts.getByLabel('App password').fill('abcd-1234-efgh-5678');
    await accounts.getByRole('button', { name: 'Connect an account' }).click();
    const account = accounts.getByRole('listitem', { name: 'e2e.bsky.test' });
    await expect(account.getByText('Connected', { exact: true })).toBeVisible();
    expect(await page.content()).not.toContain('abcd-1234-efgh-5678');

    await open(page, '/posts');
    const text = `Fresh bagels ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByLabel('Link (optional)').fill('https://example.com/bagels');
    await page.getByRole('group', { name }).getByRole('checkbox', { name: /^e2e\.bsky\.test/ }).check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const row = page.getByRole('article', { name: `Post: ${text}` }).getByRole('row', { name: /e2e\.bsky\.test/ });
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    await expect(row.getByRole('link', { name: 'View post' })).toHaveAttribute('href', /^https:\/\/bsky\.app\/profile\/did:plc:[a-z2-7]+\/post\//);
  });
});
