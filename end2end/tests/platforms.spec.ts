import { test, expect, unique, open, PlatformForm } from './fixtures';

test.describe('platform registry', () => {
  test('create a platform through the form and see it in the list', async ({ page }) => {
    const name = unique('Mastodon');
    await open(page, '/platforms');
    await page.getByRole('link', { name: 'Add platform' }).click();
    await expect(page.getByRole('heading', { name: 'Add platform' })).toBeVisible();
    await new PlatformForm(page).fill({
      name,
      category: 'Social',
      status: 'Pending',
      description: 'Our instance',
      baseUrl: 'https://mastodon.social',
      metadata: '{"instance": "mastodon.social"}',
    });
    await page.getByRole('button', { name: 'Create platform' }).click();

    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Platform created.' })).toBeVisible();
    await expect(page.getByText('https://mastodon.social')).toBeVisible();

    await page.getByRole('link', { name: '← All platforms' }).click();
    // The list is paged: the search box finds it wherever it sorts.
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill(name.toUpperCase());
    await search.press('Enter');
    await expect(page).toHaveURL(/\?q=MASTODON/);
    await expect(search).toHaveValue(name.toUpperCase());
    await expect(page.getByText(/^1 platform matching/)).toBeVisible();
    const row = page.getByRole('row').filter({ hasText: name });
    await expect(row).toBeVisible();
    await expect(row).toContainText('Social');
    await expect(row).toContainText('Pending');
  });

  test('filter by category and status through the UI and by URL', async ({ page, api }) => {
    const tag = unique('F');
    const make = (name: string, category: string, status: string) =>
      api.post('/api/platforms', { data: { name: `${tag} ${name}`, category, status } });
    for (const r of await Promise.all([
      make('Shop', 'payment', 'active'),
      make('Mail', 'email', 'active'),
      make('Broken Pay', 'payment', 'error'),
    ])) {
      expect(r.status()).toBe(201);
    }
    const rowNamed = (name: string) => page.getByRole('row').filter({ hasText: `${tag} ${name}` });

    await open(page, '/platforms');
    await page.getByLabel('Category').selectOption('payment');
    await expect(page).toHaveURL(/\/platforms\?category=payment$/);
    await expect(rowNamed('Shop')).toBeVisible();
    await expect(rowNamed('Broken Pay')).toBeVisible();
    await expect(rowNamed('Mail')).toHaveCount(0);

    await page.getByLabel('Status').selectOption('error');
    await expect(page).toHaveURL(/category=payment&status=error$/);
    await expect(rowNamed('Broken Pay')).toBeVisible();
    await expect(rowNamed('Shop')).toHaveCount(0);

    // The filtered view survives a reload and can be opened from a shared link.
    await page.reload();
    await expect(page.getByLabel('Category')).toHaveValue('payment');
    await expect(page.getByLabel('Status')).toHaveValue('error');
    await expect(rowNamed('Broken Pay')).toBeVisible();

    await open(page, '/platforms?category=email');
    await expect(rowNamed('Mail')).toBeVisible();
    await expect(rowNamed('Shop')).toHaveCount(0);
    await page.getByRole('link', { name: 'Clear search and filters' }).click();
    await expect(page).toHaveURL(/\/platforms$/);
    await expect(page.getByLabel('Category')).toHaveValue('');

    // Search and filters combine; sorting keeps both.
    await open(page, `/platforms?q=${encodeURIComponent(tag)}&category=payment`);
    await expect(rowNamed('Shop')).toBeVisible();
    await expect(rowNamed('Mail')).toHaveCount(0);
    await page.getByLabel('Sort by').selectOption('status');
    await expect(page).toHaveURL(/category=payment&q=.*&sort=status$/);
    await expect(page.getByRole('row').nth(1)).toContainText(`${tag} Shop`);
    await expect(page.getByRole('row').nth(2)).toContainText(`${tag} Broken Pay`);
  });

  test('a search lists its matches newest first, or in the order chosen', async ({ page, api }) => {
    const tag = unique('Order');
    for (const name of ['Alpha', 'Charlie', 'Bravo']) {
      expect((await api.post('/api/platforms', { data: { name: `${tag} ${name}` } })).status()).toBe(201);
    }
    const rows = page.getByRole('row');
    await open(page, '/platforms');
    await expect(page.getByLabel('Sort by')).toHaveValue('name');
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill(tag);
    await search.press('Enter');
    await expect(page).toHaveURL(/\?q=Order[^&]*$/);
    await expect(page.getByLabel('Sort by')).toHaveValue('added');
    await expect(rows.nth(1)).toContainText(`${tag} Bravo`);
    await expect(rows.nth(3)).toContainText(`${tag} Alpha`);

    await page.getByLabel('Sort by').selectOption('name');
    await expect(page).toHaveURL(/\?q=Order[^&]*&sort=name$/);
    await expect(rows.nth(1)).toContainText(`${tag} Alpha`);
    await expect(rows.nth(2)).toContainText(`${tag} Bravo`);
    // A chosen order outlives the search; name is the plain list's own, so the URL is bare.
    await search.fill('');
    await search.press('Enter');
    await expect(page).toHaveURL(/\/platforms$/);
    await expect(page.getByLabel('Sort by')).toHaveValue('name');
  });

  test('edit a platform', async ({ page, api }) => {
    const name = unique('Stripe');
    const created = await api.post('/api/platforms', { data: { name, category: 'payment' } });
    const { platform } = await created.json();

    await open(page, `/platforms/${platform.id}`);
    await page.getByRole('link', { name: 'Edit' }).click();
    await expect(page.getByLabel('Name')).toHaveValue(name);
    await expect(page.getByLabel('Category')).toHaveValue('payment');
    await new PlatformForm(page).fill({ name: `${name} EU`, authType: 'API key', status: 'Inactive' });
    await page.getByRole('button', { name: 'Save changes' }).click();

    await expect(page.getByRole('heading', { level: 1, name: `${name} EU` })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Changes saved.' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Details' }).getByText('API key')).toBeVisible();
  });

  test('delete a platform after confirming', async ({ page, api }) => {
    const name = unique('Temp');
    const { platform } = await (await api.post('/api/platforms', { data: { name } })).json();

    await open(page, `/platforms/${platform.id}`);
    await expect(page.getByRole('button', { name: 'Delete permanently' })).toBeHidden();
    await page.getByText('Delete this platform…').click();
    await page.getByRole('button', { name: 'Delete permanently' }).click();

    await expect(page).toHaveURL(/\/platforms\?notice=deleted$/);
    await expect(page.getByRole('status').filter({ hasText: 'Platform deleted.' })).toBeVisible();
    await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);
    expect((await api.get(`/api/platforms/${platform.id}`)).status()).toBe(404);
  });

  test('bad input shows a message at the field and keeps what was typed', async ({ page }) => {
    await open(page, '/platforms/new');
    await new PlatformForm(page).fill({ name: unique('Bad'), baseUrl: 'api.example.com', metadata: '{oops' });
    await page.getByRole('button', { name: 'Create platform' }).click();

    await expect(page.getByRole('alert')).toHaveText('Please correct the 2 highlighted fields.');
    await expect(page.getByLabel('Base URL')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByText('must start with https:// or http://')).toBeVisible();
    await expect(page.getByText(/is not valid JSON/)).toBeVisible();
    await expect(page.getByLabel('Base URL')).toHaveValue('api.example.com');
    await expect(page).toHaveURL(/\/platforms\/new$/);

    await page.getByLabel('Base URL').fill('https://api.example.com');
    await page.getByLabel('Metadata (JSON)').fill('');
    await page.getByRole('button', { name: 'Create platform' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Platform created.' })).toBeVisible();
  });

  test('an unknown platform shows a not-found page', async ({ page }) => {
    await open(page, '/platforms/0190a0a0-0000-7000-8000-000000000000');
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  });
});

test.describe('in the reader\'s time zone', () => {
  test.use({ timezoneId: 'Asia/Kolkata', locale: 'en-GB' });

  test('the list says when each platform changed in the reader\'s own time zone', async ({ page, api }) => {
    const name = unique('Zone');
    expect((await api.post('/api/platforms', { data: { name } })).status()).toBe(201);
    const when = page.getByRole('row').filter({ hasText: name }).locator('time');
    await open(page, `/platforms?q=${encodeURIComponent(name)}`);
    await expect(when).toHaveAttribute('title', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    // What the browser itself writes for that moment in the reader's zone (UTC+5:30 here).
    const local = await when.evaluate((el: HTMLTimeElement) =>
      new Date(el.dateTime).toLocaleString('default', { dateStyle: 'medium', timeStyle: 'short' }));
    expect(local).not.toContain('UTC');
    await expect(when).toHaveText(local);
  });
});

test.describe('without JavaScript', () => {
  test('create, filter and see validation messages @nojs', async ({ page }) => {
    const name = unique('NoJS');
    await page.goto('/platforms/new');
    await new PlatformForm(page).fill({ name: '', metadata: '[1]' });
    await page.getByRole('button', { name: 'Create platform' }).click();
    await expect(page.getByRole('alert')).toHaveText('Please correct the 2 highlighted fields.');
    await expect(page.getByText('is required')).toBeVisible();

    await new PlatformForm(page).fill({ name, category: 'CRM' });
    await page.getByRole('button', { name: 'Create platform' }).click();
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();

    await page.goto('/platforms');
    await page.getByLabel('Category').selectOption('crm');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/category=crm/);
    await expect(page.getByRole('row').filter({ hasText: name })).toBeVisible();
  });
});
