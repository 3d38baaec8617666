import { test, expect, open, redditPlatform, connectAccount } from './fixtures';

test.describe('Calendar', () => {
  // A session no other spec that connects accounts uses: connect flows of one session
  // running at once in two workers can lose each other's pending sign-in
  // (docs/operations.md, "Known limits").
  test.use({ storageState: '.auth/admin.json', timezoneId: 'UTC' });

  test('a scheduled post appears on its day of next month, moves by drag and drop, and opens for editing', async ({ page, api, request }) => {
    const platform = await redditPlatform(api, request);
    await connectAccount(page, platform.id, 'Rye Calendar');
    const account = (await (await api.get(`/api/platforms/${platform.id}/accounts`)).json()).accounts[0].id;

    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 15, 10, 5));
    const text = `Mid-month rye ${Date.now()}`;
    const created = await api.post('/api/posts', { data: { text, accounts: [account], action: 'schedule', scheduled_at: next.toISOString() } });
    expect(created.status()).toBe(201);

    await open(page, '/calendar');
    const monthName = next.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
    await page.getByRole('link', { name: `${monthName} →` }).click();
    await expect(page.getByRole('heading', { name: `${monthName} ${next.getUTCFullYear()}` })).toBeVisible();
    const day = next.toLocaleString('en-GB', { weekday: 'long', timeZone: 'UTC' });
    const cell = page.getByRole('cell', { name: `${day} 15 ${monthName}` });
    await expect(cell).toContainText(`10:05 ${text}`);
    await expect(cell.getByText('scheduled', { exact: true })).toBeVisible();
    // Dragged to the 17th: it goes out that day at the same time.
    const target = page.getByRole('cell', { name: new RegExp(`^\\w+ 17 ${monthName}$`) });
    await cell.getByRole('listitem').filter({ hasText: text }).dragTo(target);
    await expect(target).toContainText(`10:05 ${text}`);
    await expect(cell).not.toContainText(text);
    const moved = (await (await api.get('/api/posts?status=queued&limit=200')).json()).posts.find((p: { text: string }) => p.text === text);
    expect(moved.scheduled_at).toBe(new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth(), 17, 10, 5)).toISOString().replace('.000Z', 'Z'));

    // The week of the 17th shows it too.
    const week = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth(), 17)).toISOString().slice(0, 10);
    await open(page, `/calendar?week=${week}`);
    await expect(page.getByRole('heading', { name: /^Week of/ })).toBeVisible();
    await page.getByRole('cell', { name: new RegExp(`^\\w+ 17 ${monthName}$`) }).getByRole('link', { name: `10:05 ${text}` }).click();
    await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+\/edit$/);
  });
});
