import { test, expect, open, unique } from './fixtures';

test.describe('Import from the old store', () => {
  test('a file that is not an export says why; a large file uploads and imports with a progress bar, then a pasted export', async ({ page, api }) => {
    test.setTimeout(120_000);
    await open(page, '/import');
    const file = page.getByLabel('Exported file');
    await file.setInputFiles({ name: 'wrong.json', mimeType: 'application/json', buffer: Buffer.from('{"name": "x"}') });
    await page.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('the file must be a JSON array of platforms')).toBeVisible();
    await expect(file).toHaveAttribute('aria-invalid', 'true');

    // "Zz…" sorts after every other test's platforms: their first pages stay theirs.
    const prefix = unique('Zz import');
    const entries = Array.from({ length: 1100 }, (_, i) => ({
      name: `${prefix} ${String(i).padStart(4, '0')}`,
      category: 'payment',
      auth_type: 'api_key',
      api_config: { api_key: `key-${i}` },
    }));
    await file.setInputFiles({ name: 'export.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(entries)) });
    // Every label the progress bar shows, as it changes.
    await page.evaluate(() => {
      const seen: string[] = ((window as any).progressSeen = []);
      new MutationObserver(() => {
        const label = document.querySelector('label[for="import-progress"]')?.textContent;
        if (label && seen[seen.length - 1] !== label) seen.push(label);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Import' }).click();
    const summary = '1100 platforms created; 1100 secrets imported (1100 from plaintext, 0 from ciphertext); 0 problems';
    await expect(page.getByRole('status').filter({ hasText: summary })).toBeVisible({ timeout: 60_000 });
    const seen: string[] = await page.evaluate(() => (window as any).progressSeen);
    expect(seen[0], 'the upload first').toMatch(/^Uploading: [\d.]+ of 0\.\d MB$/);
    expect(seen.some((l) => /^Importing: [\d,]+ of 1,100 entries$/.test(l)), `then the batches: ${seen.join(' | ')}`).toBe(true);
    await expect(page.getByRole('progressbar')).toHaveCount(0);
    await expect(page.getByText('the file must be a JSON array')).toHaveCount(0);
    await expect(page.getByText('re-authenticate those platforms')).toBeVisible();
    // (A search counts to 1,000 at most: the first and the last are looked up by name.)
    for (const last of ['0000', '1099']) {
      const found = await (await api.get(`/api/platforms?q=${encodeURIComponent(`${prefix} ${last}`)}`)).json();
      expect(found.platforms.map((p: { name: string }) => p.name)).toEqual([`${prefix} ${last}`]);
    }

    // A small export pasted: imported, and the pasted tokens leave the page.
    const pasted = page.getByLabel('Or paste the exported JSON');
    await file.setInputFiles([]);
    await pasted.fill(JSON.stringify([{ name: `${prefix} pasted`, category: 'crm', auth_type: 'api_key', api_config: { api_key: 'pasted-key' } }]));
    await page.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByRole('status').filter({ hasText: '1 platforms created' })).toBeVisible();
    await expect(pasted).toHaveValue('');
  });
});
