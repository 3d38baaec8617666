import { test, expect, unique, open } from './fixtures';

test.describe('credentials', () => {
  test('set an API key: the badge turns to Encrypted and the key never reaches the page', async ({ page, api }) => {
    const name = unique('Stripe');
    const created = await api.post('/api/platforms', { data: { name, auth_type: 'api_key', category: 'payment' } });
    const { platform } = await created.json();
    const key = `sk_live_${Date.now().toString(36)}_e2e_secret`;

    await open(page, `/platforms/${platform.id}`);
    const credentials = page.getByRole('region', { name: 'Credentials' });
    await expect(credentials.getByText('No secret')).toBeVisible();
    await credentials.getByLabel('API key', { exact: true }).fill(key);
    await credentials.getByRole('button', { name: 'Save API key' }).click();

    await expect(page.getByRole('status').filter({ hasText: 'Secret saved and encrypted.' })).toBeVisible();
    await expect(credentials.getByText('Encrypted (current key v2)')).toBeVisible();
    await expect(credentials.getByText('encrypted with the current key (v2)')).toBeVisible();
    await expect(credentials.getByLabel('New API key')).toHaveValue('');
    expect(await page.content()).not.toContain(key);
    // The server-rendered HTML of the page as the signed-in admin (an API token opens no page).
    const source = await (await page.request.get(`/platforms/${platform.id}`)).text();
    expect(source).toContain('Encrypted (current key v2)');
    expect(source).not.toContain(key);

    // The list shows the badge and filters by it.
    await open(page, `/platforms?q=${encodeURIComponent(name)}`);
    await page.getByLabel('Encryption').selectOption('current');
    await expect(page).toHaveURL(/encryption=current/);
    await expect(page.getByRole('row').filter({ hasText: name })).toContainText('Encrypted (current key v2)');
    await page.getByLabel('Encryption').selectOption('none');
    await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);
    expect(await page.content()).not.toContain(key);
  });

  test('an empty secret is refused with a message at the field', async ({ page, api }) => {
    const { platform } = await (
      await api.post('/api/platforms', { data: { name: unique('Empty'), auth_type: 'bearer' } })
    ).json();
    await open(page, `/platforms/${platform.id}`);
    const credentials = page.getByRole('region', { name: 'Credentials' });
    await credentials.getByRole('button', { name: 'Save access token' }).click();
    await expect(credentials.getByText('must not be empty')).toBeVisible();
    await expect(credentials.getByText('No secret')).toBeVisible();
  });
});
