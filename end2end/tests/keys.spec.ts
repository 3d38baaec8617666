import { spawn } from 'node:child_process';
import { test, expect, open, unique } from './fixtures';
import { DATABASE_URL, KEY_V1 } from '../playwright.config';

/**
 * Puts secrets under the old key v1, as if they were stored before the rotation: a second
 * Keyport process on the same database, configured with v1 as its current key.
 */
async function storeUnderOldKey(token: string, names: string[]): Promise<string[]> {
  const port = 3100 + 3 + Math.floor(Math.random() * 50);
  const base = `http://127.0.0.1:${port}`;
  const old = spawn('./target/debug/keyport', ['serve'], {
    cwd: '..',
    env: { PATH: process.env.PATH, KEYPORT_DOTENV: 'off', DATABASE_URL, ENCRYPTION_KEY: KEY_V1, LEPTOS_SITE_ADDR: `127.0.0.1:${port}`, RUST_LOG: 'warn' },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 100; i++) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const headers = { Authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const ids: string[] = [];
    for (const name of names) {
      const created = await fetch(`${base}/api/platforms`, { method: 'POST', headers, body: JSON.stringify({ name, auth_type: 'api_key' }) });
      const { platform } = await created.json();
      const put = await fetch(`${base}/api/platforms/${platform.id}/secrets/api_key`, { method: 'PUT', headers, body: JSON.stringify({ value: `key-of-${name}` }) });
      expect(put.ok).toBe(true);
      ids.push(platform.id);
    }
    return ids;
  } finally {
    old.kill('SIGTERM');
  }
}

test('an admin re-encrypts every secret to the current key and watches it finish', async ({ page }) => {
  const token = (await import('node:fs')).readFileSync('.auth/token.txt', 'utf8').trim();
  const names = [unique('Old key A'), unique('Old key B'), unique('Old key C')];
  const [first] = await storeUnderOldKey(token, names);

  await open(page, `/platforms/${first}`);
  await expect(page.getByText('Encrypted with an old key (v1 — re-encrypt)').first()).toBeVisible();

  await open(page, '/keys');
  const versions = page.getByRole('region', { name: 'Key versions' });
  await expect(versions.getByRole('row', { name: /^v1 / })).toContainText('configured');
  await expect(versions).toContainText(/\d+ secrets? still uses? v1 — re-encrypt them, then ENCRYPTION_KEY_V1 can be removed\./);

  const job = page.getByRole('region', { name: 'Re-encryption' });
  await job.getByRole('button', { name: 'Re-encrypt all to the current key (v2)' }).click();
  await expect(job.getByRole('progressbar', { name: 'Re-encryption progress' })).toBeVisible();
  // The page polls while the job runs: the bar reaches the end without a reload.
  await expect(job.getByRole('status')).toContainText('(100%)', { timeout: 15_000 });
  await expect(job).toContainText('Finished');
  await expect(versions).toContainText('v1 is no longer used: it is safe to remove ENCRYPTION_KEY_V1 from the environment.');

  await open(page, '/platforms?q=Old%20key');
  for (const name of names) {
    await expect(page.getByRole('row').filter({ hasText: name })).toContainText('Encrypted (current key v2)');
  }
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
