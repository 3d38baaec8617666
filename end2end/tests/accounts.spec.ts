import { test, expect, open } from './fixtures';
import { ADMIN, MARKETER } from './users';

test.describe('accounts', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('sign in, come back to the page asked for, sign out', async ({ page }) => {
    await page.goto('/platforms?category=social');
    await expect(page).toHaveURL(/\/login\?next=/);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('The email or password is not right.')).toBeVisible();

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/platforms\?category=social$/);
    await expect(page.getByRole('link', { name: ADMIN.email })).toBeVisible();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'You are signed out.' })).toBeVisible();
    await page.goto('/platforms');
    await expect(page).toHaveURL(/\/login/);
  });
});

test.describe('marketer', () => {
  test.use({ storageState: '.auth/marketer.json' });

  test('sees no admin actions and gets 403 on an admin page', async ({ page, api }) => {
    const created = await api.post('/api/platforms', { data: { name: `Marketer view ${Date.now()}`, auth_type: 'api_key' } });
    const { platform } = await created.json();

    await open(page, '/platforms');
    await expect(page.getByRole('link', { name: MARKETER.email })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Add platform' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);

    await open(page, `/platforms/${platform.id}`);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
    await expect(page.getByText('Danger zone')).toHaveCount(0);
    await expect(page.getByRole('region', { name: 'Credentials' })).toHaveCount(0);

    const response = await page.goto('/users');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  });
});
