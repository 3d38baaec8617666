import { test, expect, open, platformAt, redditPlatform, connectAccount, unique } from './fixtures';
import { SANDBOX_URL } from '../playwright.config';

test.describe('The composer keeps unsent work', () => {
  // A session of its own: it connects an account (docs/operations.md, "Known limits").
  test.use({ storageState: '.auth/admin-2.json' });

  test('a reload restores what was written, leaving asks first, Discard and publishing forget it', async ({ page, api, request }) => {
    const platform = await redditPlatform(api, request);
    await connectAccount(page, platform.id, 'Draft Baker');
    await open(page, '/posts');
    const text = `Half-written ${Date.now()}`;
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByLabel('Link (optional)').fill('https://example.com/half');
    const account = page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^draft-baker/ });
    await account.check();

    // Leaving with unsent text asks first (the browser's own dialog); the work is kept.
    const asked: string[] = [];
    page.on('dialog', (dialog) => { asked.push(dialog.type()); void dialog.accept(); });
    await page.reload();
    expect(asked).toEqual(['beforeunload']);
    await page.locator('body[data-hydrated="true"]').waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'Restored what you were writing' })).toBeVisible();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue(text);
    await expect(page.getByLabel('Link (optional)')).toHaveValue('https://example.com/half');
    await expect(account).toBeChecked();
    await expect(page.getByRole('region', { name: 'Preview' }).getByRole('article', { name: 'Preview for draft-baker' })).toContainText(text);

    // Discard empties the composer, and a reload brings nothing back.
    await page.getByRole('button', { name: 'Discard' }).click();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
    await page.reload();
    await page.locator('body[data-hydrated="true"]').waitFor();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
    await expect(page.getByText('Restored what you were writing')).toHaveCount(0);

    // Published: the text is gone from the composer and from the browser.
    await page.getByLabel('Text', { exact: true }).fill(text);
    await account.check();
    await page.getByRole('button', { name: 'Publish now' }).click();
    await expect(page.getByRole('article', { name: `Post: ${text}` })).toBeVisible();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
    await page.reload();
    await page.locator('body[data-hydrated="true"]').waitFor();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
    expect(asked).toEqual(['beforeunload'], 'nothing unsent, nothing asked');
  });

  test('posting slots set on the platform page: Add to queue takes the next free one', async ({ page, api, request }) => {
    const platform = await platformAt(api, request, 'sandbox', { instance_url: SANDBOX_URL });
    const account = await connectAccount(page, platform.id, 'Queue Baker', 'Queue Baker');
    await account.locator('summary', { hasText: 'Posting slots: none yet' }).click();
    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']) {
      await account.getByRole('checkbox', { name: day, exact: true }).check();
    }
    await account.getByLabel('Times for Queue Baker').fill('17:00, 09:00');
    // The browser's own zone is offered; this journey posts in UTC.
    await expect(account.getByLabel('Time zone for Queue Baker')).not.toHaveValue('');
    await account.getByLabel('Time zone for Queue Baker').fill('UTC');
    await account.getByRole('button', { name: 'Save the posting slots of Queue Baker' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Posting slots saved' })).toBeVisible();
    await expect(page.getByText('Posting slots: Mon, Tue, Wed, Thu, Fri, Sat, Sun at 09:00 and 17:00 (UTC)')).toBeVisible();

    await open(page, '/posts');
    const text = unique('Queued rolls');
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('group', { name: platform.name }).getByRole('checkbox', { name: /^Queue Baker/ }).check();
    await page.getByLabel('Add to queue').check();
    await page.getByRole('button', { name: 'Add to queue' }).click();
    const post = page.getByRole('article', { name: `Post: ${text.slice(0, 40)}` });
    await expect(post.getByText('Scheduled', { exact: true })).toBeVisible();
    const listed = (await (await api.get('/api/posts?status=queued&limit=200')).json()).posts.find((p: { text: string }) => p.text === text);
    expect(['09:00', '17:00']).toContain(listed.scheduled_at.slice(11, 16));
  });
});
