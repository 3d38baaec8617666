import { test, expect } from '@playwright/test';
import { open } from '../tests/fixtures';

// The split release bundle: the first page loads only the main module; each other page
// loads its own module the first time it is shown, by a link or directly, and hydrates.

test('the split release bundle hydrates every page, loading a page\'s module when it is first shown', async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  // Every WASM module the browser fetches, with how and in how many bytes it was sent.
  const modules: { name: string; encoding?: string; sent: number }[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    const name = new URL(r.url()).pathname.split('/').pop() ?? '';
    if (name.endsWith('.wasm')) modules.push({ name, encoding: r.headers()['content-encoding'], sent: Number(r.headers()['content-length'] ?? NaN) });
  });
  const pageModules = () => modules.filter((m) => m.name.startsWith('split_')).map((m) => m.name);

  await page.goto('/platforms');
  await expect(page).toHaveURL(/\/setup$/);
  // The sign-in pages are page modules too: a signed-in browser never needs them.
  await expect.poll(() => pageModules().some((m) => m.startsWith('split___setup_route')), 'the set-up page loads its module').toBe(true);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password (12 characters or more)').fill('bundle check password');
  await page.getByLabel('Password again').fill('bundle check password');
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Welcome!' })).toBeVisible();

  modules.length = 0;
  await open(page, '/platforms');
  const main = modules.find((m) => m.name.startsWith('keyport.'));
  expect(main, 'the main module was loaded').toBeTruthy();
  // The budget of issue 16 (300 KB compressed): ~237 KB in Brotli and ~297 KB in gzip today.
  expect(main!.encoding).toBe('br');
  expect(main!.sent).toBeLessThanOrEqual(300_000);
  const gzipped = await page.request.get(`/pkg/${main!.name}`, { headers: { 'Accept-Encoding': 'gzip' } });
  expect(gzipped.headers()['content-encoding']).toBe('gzip');
  // The size as sent: Playwright decompresses the body it hands back.
  expect(Number(gzipped.headers()['content-length']), 'the main module in gzip').toBeLessThanOrEqual(300_000);
  expect(pageModules(), 'the platforms list needs no page module').toEqual([]);

  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const [link, heading] of [
    ['Keys', 'Encryption keys'], ['Users', 'Users'], ['Posts', 'Posts'], ['Calendar', 'Calendar'],
    ['Needs attention', 'Needs attention'], ['Import', 'Import from the old store'], ['Audit log', 'Audit log'],
  ]) {
    const before = pageModules().length;
    await nav.getByRole('link', { name: link, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect.poll(() => pageModules().length, `${link} loads its module`).toBeGreaterThan(before);
  }

  // A page's module drives its forms: add a platform through the hydrated form.
  await nav.getByRole('link', { name: 'Platforms', exact: true }).click();
  await page.getByRole('link', { name: 'Add your first platform' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Add platform' })).toBeVisible();
  await page.getByLabel('Name').fill('Split bundle check');
  await page.getByLabel('Category').selectOption({ label: 'Payment' });
  await page.getByRole('button', { name: 'Create platform' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Split bundle check' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Platform created.' })).toBeVisible();

  // A page opened directly hydrates once its module has loaded, and links work from it.
  modules.length = 0;
  await open(page, '/keys');
  expect(pageModules().some((m) => m.startsWith('split___keys_route'))).toBe(true);
  await nav.getByRole('link', { name: 'Platforms', exact: true }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Split bundle check' })).toBeVisible();

  expect(errors, 'the pages reported errors').toEqual([]);
});
