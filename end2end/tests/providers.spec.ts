import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test, expect, open, platformAt, redditPlatform, connectAccount, unique } from './fixtures';
import { DATABASE_URL, SANDBOX_URL } from '../playwright.config';

test.describe('Instagram\'s long-lived token', () => {
  test.use({ storageState: '.auth/marketer-2.json' });

  test('an account whose token nears its end is renewed by the refresher', async ({ page, api, request }) => {
    const base = `${SANDBOX_URL}/instagram`;
    const platform = await platformAt(api, request, 'instagram', {
      authorize_url: `${base}/oauth/authorize`, token_url: `${base}/oauth/access_token`,
      userinfo_url: `${base}/v25.0/me`, api_base_url: `${base}/v25.0`,
    });
    const account = await connectAccount(page, platform.id, 'Insta Rye');
    await expect(account).toContainText('Keyport renews the long-lived access token');
    const lastRefreshed = account.locator('dt:text-is("Last refreshed") + dd');
    await expect(lastRefreshed).toHaveText('never');

    // Time passes: the token was issued 55 days ago and runs out in 5 (Meta renews a
    // long-lived token once it is a day old). Only the database knows time; it is moved here.
    const hex = platform.id.replaceAll('-', '');
    const sql = `UPDATE accounts SET connected_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-55 days'),
                 expires_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+5 days') WHERE platform_id = X'${hex}'`;
    execFileSync('sqlite3', ['-cmd', '.timeout 5000', `../${DATABASE_URL.replace('sqlite://', '')}`, sql]);

    // The background refresher renews it within a few of its rounds: 60 days again.
    await expect(async () => {
      await page.reload();
      await expect(lastRefreshed).not.toHaveText('never', { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    const expires = await account.locator('dt:text-is("Access token") + dd time').getAttribute('datetime');
    const days = (Date.parse(expires!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(59);
    await expect(account.getByText('Connected', { exact: true })).toBeVisible();
  });
});

test.describe('Reddit', () => {
  test.use({ storageState: '.auth/marketer-2.json' });

  test('a marketer chooses the subreddit an account posts to, and publishes there', async ({ page, api, request }) => {
    const platform = await redditPlatform(api, request);
    const account = await connectAccount(page, platform.id, 'Rye Baker');
    await expect(account).toContainText('Posts go to u/rye-baker');

    await account.getByRole('textbox', { name: 'Subreddit' }).fill('r/no way');
    await account.getByRole('button', { name: 'Save the subreddit of rye-baker' }).click();
    await expect(page.getByRole('status')).toContainText('That is not a subreddit');
    await account.getByRole('textbox', { name: 'Subreddit' }).fill('r/bakery');
    await account.getByRole('button', { name: 'Save the subreddit of rye-baker' }).click();
    await expect(page.getByRole('status')).toContainText('Saved: this account\'s posts go there');
    await expect(account).toContainText('Posts go to r/bakery');
    await expect(account.getByRole('textbox', { name: 'Subreddit' })).toHaveValue('r/bakery');

    await open(page, '/posts');
    const text = `Rye loaves at nine ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByLabel('Link (optional)').fill('https://example.com/rye');
    await page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^rye-baker/ }).check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    const row = page.getByRole('article', { name: `Post: ${text}` }).getByRole('row', { name: /rye-baker/ });
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    const href = await row.getByRole('link', { name: 'View post' }).getAttribute('href');
    const shown = await (await request.get(href!)).text();
    expect(shown).toContain(text);
    expect(shown).toContain('https://example.com/rye');
  });
});

test.describe('Text per account', () => {
  test.use({ storageState: '.auth/marketer-2.json' });

  test('one post goes out with a different text to each of two accounts', async ({ page, api, request }) => {
    const platform = await redditPlatform(api, request);
    await connectAccount(page, platform.id, 'Oat Baker');
    await connectAccount(page, platform.id, 'Spelt Baker');

    await open(page, '/posts');
    const text = `Bread at nine ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    const group = page.getByRole('group', { name: platform.name });
    await group.getByRole('checkbox', { name: /^oat-baker/ }).check();
    await group.getByRole('checkbox', { name: /^spelt-baker/ }).check();
    await group.locator('summary', { hasText: 'Own text for spelt-baker' }).click();
    await group.getByRole('textbox', { name: 'Own text for spelt-baker' }).fill(`Spelt loaves for r/bakery ${text}`);

    // Each account's preview shows what it will get, as Reddit shows it: the first line as the title.
    const previews = page.getByRole('region', { name: 'Preview' });
    await expect(previews.getByRole('article', { name: 'Preview for oat-baker' })).toContainText(text);
    await expect(previews.getByRole('article', { name: 'Preview for spelt-baker' })).toContainText(`Spelt loaves for r/bakery ${text}`);
    await page.getByLabel('Link (optional)').fill('https://example.com/spelt');
    await expect(previews.getByRole('article', { name: 'Preview for oat-baker' })).toContainText('example.com');
    await page.getByLabel('Link (optional)').fill('');
    await page.getByRole('button', { name: 'Publish now' }).click();

    const post = page.getByRole('article', { name: `Post: ${text}`.slice(0, 46) });
    for (const [account, shown] of [['oat-baker', text], ['spelt-baker', `Spelt loaves for r/bakery ${text}`]]) {
      const row = post.getByRole('row', { name: new RegExp(account) });
      await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
      const href = await row.getByRole('link', { name: 'View post' }).getAttribute('href');
      expect(await (await request.get(href!)).text()).toContain(shown);
    }
    await expect(post.getByRole('row', { name: /spelt-baker/ })).toContainText('Own text: Spelt loaves');
  });
});

test.describe('Instagram in the composer', () => {
  test.use({ storageState: '.auth/marketer-2.json' });

  test('a post needs a photo, Keyport says PUBLIC_URL is out of reach, and Instagram fetches the photo', async ({ page, api, request }) => {
    const base = `${SANDBOX_URL}/instagram`;
    const platform = await platformAt(api, request, 'instagram', {
      authorize_url: `${base}/oauth/authorize`, token_url: `${base}/oauth/access_token`,
      userinfo_url: `${base}/v25.0/me`, api_base_url: `${base}/v25.0`,
    });
    await connectAccount(page, platform.id, 'Insta Crumb');

    await open(page, '/posts');
    const text = unique('Crumb shot');
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^insta-crumb/ }).check();
    // No text-only posts on Instagram: said before anything is sent.
    await expect(page.getByRole('alert').filter({ hasText: 'Instagram posts need an image or a video' })).toBeVisible();

    await page.getByLabel('Add images or a video').setInputFiles(path.join(__dirname, '..', '..', 'tests', 'fixtures', 'media', 'photo.jpg'));
    await page.getByLabel('Alt text for file 1').fill('A crumb, close up');
    await expect(page.getByText('Instagram posts need an image or a video')).toHaveCount(0);
    // This Keyport listens on loopback: Instagram could not fetch from it on the internet.
    await expect(page.getByRole('status').filter({ hasText: /^Instagram fetches each file from Keyport at http:\/\/127\.0\.0\.1:\d+, which the internet cannot reach: set PUBLIC_URL/ })).toBeVisible();

    // The sandbox, on this machine, can: the photo goes by the link Keyport lends.
    await page.getByRole('button', { name: 'Publish now' }).click();
    const row = page.getByRole('article', { name: `Post: ${text}`.slice(0, 46) }).getByRole('row', { name: /insta-crumb/ });
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    const href = await row.getByRole('link', { name: 'View post' }).getAttribute('href');
    const shown = await (await request.get(href!)).text();
    expect(shown).toContain(text);
    expect(shown).toContain('alt="A crumb, close up"');
  });
});

test.describe('Pinterest', () => {
  test.use({ storageState: '.auth/marketer-2.json' });

  test('a marketer picks the board an account pins to, and pins a photo there', async ({ page, api, request }) => {
    const base = `${SANDBOX_URL}/pinterest`;
    const platform = await platformAt(api, request, 'pinterest', {
      authorize_url: `${base}/oauth/`, token_url: `${base}/v5/oauth/token`,
      userinfo_url: `${base}/v5/user_account`, api_base_url: `${base}/v5`,
    });
    const account = await connectAccount(page, platform.id, 'Pin Baker', 'pin_baker');
    // Without a board the composer says so as soon as the account is ticked.
    await open(page, '/posts');
    await page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^pin_baker/ }).check();
    await expect(page.getByRole('status').filter({ hasText: 'has no board yet: choose one on its platform page, or save the post as a draft' })).toBeVisible();
    await open(page, `/platforms/${platform.id}`);
    // The boards come from Pinterest; none is chosen yet, and the page says what that means.
    await expect(account).toContainText('No board yet: choose one, or posts to this account fail.');
    const board = account.getByRole('combobox', { name: 'Board' });
    await expect(board.getByRole('option')).toHaveText(['Choose a board', 'Recipes', 'Shop window', 'Drafts (secret)']);
    await board.selectOption({ label: 'Recipes' });
    await account.getByRole('button', { name: 'Save the board of pin_baker' }).click();
    await expect(page.getByRole('status')).toContainText('Saved: this account\'s posts go there');
    await expect(account).toContainText('Pins go to Recipes.');

    await open(page, '/posts');
    const text = unique('Rye on the board');
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^pin_baker/ }).check();
    await expect(page.getByRole('alert').filter({ hasText: 'Pinterest posts need an image: attach one' })).toBeVisible();
    await page.getByLabel('Add images or a video').setInputFiles(path.join(__dirname, '..', '..', 'tests', 'fixtures', 'media', 'photo.jpg'));
    await page.getByLabel('Alt text for file 1').fill('A rye loaf on a board');
    await page.getByRole('button', { name: 'Publish now' }).click();

    const row = page.getByRole('article', { name: `Post: ${text}`.slice(0, 46) }).getByRole('row', { name: /pin_baker/ });
    await expect(row.getByText('published', { exact: true })).toBeVisible({ timeout: 15_000 });
    const href = await row.getByRole('link', { name: 'View post' }).getAttribute('href');
    const pin = href!.match(/^https:\/\/www\.pinterest\.com\/pin\/(\d+)\/$/)![1];
    const shown = await (await request.get(`${SANDBOX_URL}/posts/${pin}`)).text();
    expect(shown).toContain(text);
    expect(shown).toContain('alt="A rye loaf on a board"');
  });
});
