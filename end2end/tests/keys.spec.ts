import { test, expect, open, unique } from './fixtures';

// Runs last, alone (project 'rotation' in playwright.config.ts): Rotate now changes the key
// every other journey's badges name.
test('an admin rotates the data key and watches every secret move to it, with no restart', async ({ page, api }) => {
  const names = [unique('Rotated A'), unique('Rotated B'), unique('Rotated C')];
  for (const name of names) {
    const created = await api.post('/api/platforms', { data: { name, auth_type: 'api_key' } });
    const { platform } = await created.json();
    expect((await api.put(`/api/platforms/${platform.id}/secrets/api_key`, { data: { value: `key-of-${name}` } })).ok()).toBe(true);
  }

  await open(page, '/keys');
  const keys = page.getByRole('region', { name: 'Data keys' });
  await expect(keys).toContainText('Root key: ENCRYPTION_KEY (local)');
  const active = keys.getByRole('row').filter({ has: page.locator('.badge', { hasText: /^active$/ }) });
  const current = Number((await active.getByRole('cell').first().innerText()).replace('v', ''));
  const next = current + 1;

  // A confirmation first: it says what will happen, and nothing has yet.
  const rotate = page.getByRole('region', { name: 'Rotate' });
  await rotate.getByText('Rotate now…').click();
  await expect(rotate).toContainText(`Makes a new random data key, v${next}, active on every instance within seconds (no restart)`);
  await rotate.getByRole('button', { name: `Rotate to v${next}` }).click();

  const job = page.getByRole('region', { name: 'Re-encryption' });
  await expect(job.getByRole('progressbar', { name: 'Re-encryption progress' })).toBeVisible();
  // The page polls while the job runs: the bar reaches the end without a reload.
  await expect(job.getByRole('status')).toContainText('(100%)', { timeout: 15_000 });
  await expect(job).toContainText('Finished');
  await expect(job).toContainText(`to key v${next}`);
  await expect(keys.getByRole('row', { name: new RegExp(`^v${next} `) })).toContainText('active');
  await expect(keys).toContainText(`v${current} protects nothing any more: retire it.`);

  await open(page, '/platforms?q=Rotated');
  for (const name of names) {
    await expect(page.getByRole('row').filter({ hasText: name })).toContainText(`Encrypted (current key v${next})`);
  }

  // The old key protects nothing now: retired, after its own confirmation.
  await open(page, '/keys');
  await keys.getByText(`Retire v${current}…`).click();
  await expect(keys).toContainText(`v${current} protects 0 secrets. Retiring erases its wrapped copy`);
  await keys.getByRole('button', { name: `Retire v${current}`, exact: true }).click();
  await expect(keys.getByRole('row', { name: new RegExp(`^v${current} `) })).toContainText('retired');
  await expect(keys.getByText(`Retire v${current}…`)).toHaveCount(0);
});

test.describe('marketer', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('gets 403 on the keys panel and sees no Keys link', async ({ page }) => {
    await open(page, '/platforms');
    await expect(page.getByRole('link', { name: 'Keys' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Needs attention' })).toBeVisible();
    const response = await page.goto('/keys');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  });
});
