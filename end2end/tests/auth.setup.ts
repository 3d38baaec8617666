import { test as setup, expect } from '@playwright/test';
import { writeFileSync, mkdirSync } from 'node:fs';
import { ADMIN, MARKETER } from './users';
import { open } from './fixtures';

// The first-run journey, once per run: the fresh server leads to set-up; the first admin
// creates a marketer and an API token. Other tests reuse the sessions and the token.

setup('first-run set-up, a marketer and an API token', async ({ page, browser }) => {
  // Seven password hashes and six page loads of the debug build: 20 s on a quiet machine,
  // past the default 30 s on a loaded one (a CI run on 2026-12-04).
  setup.setTimeout(120_000);
  mkdirSync('.auth', { recursive: true });
  await page.goto('/platforms');
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password (12 characters or more)').fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Welcome!' })).toBeVisible();
  await page.context().storageState({ path: '.auth/admin.json' });

  await open(page, '/users');
  await page.getByLabel('Email').fill(MARKETER.email);
  await page.getByLabel('First password').fill(MARKETER.password);
  await page.getByLabel('Role', { exact: true }).selectOption('marketer');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('row').filter({ hasText: MARKETER.email })).toBeVisible();

  // The token is shown by the hydrated page (a plain form post would lose it).
  await open(page, '/profile');
  await page.getByLabel('Token name').fill('end2end');
  await page.getByLabel('Access').selectOption({ label: 'Read and write' });
  await page.getByLabel('Expires').selectOption({ label: 'in 30 days' });
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByLabel('New API token').inputValue();
  expect(token).toMatch(/^kp_/);
  writeFileSync('.auth/token.txt', token);
  const row = page.getByRole('row').filter({ hasText: 'end2end' });
  await expect(row).toContainText('Read and write');

  // Extra sign-ins: sessions of their own, so journeys that connect accounts in parallel
  // workers never share one (docs/operations.md, "Known limits").
  for (const [user, path] of [[MARKETER, '.auth/marketer.json'], [MARKETER, '.auth/marketer-2.json'], [ADMIN, '.auth/admin-2.json'], [ADMIN, '.auth/admin-3.json']] as const) {
    const context = await browser.newContext();
    const signIn = await context.newPage();
    await signIn.goto('/login');
    await signIn.getByLabel('Email').fill(user.email);
    await signIn.getByLabel('Password').fill(user.password);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await expect(signIn).toHaveURL(/\/platforms$/);
    await context.storageState({ path });
    await context.close();
  }
});
