import path from 'node:path';
import { test, expect, open, platformAt, connectAccount, unique } from './fixtures';
import { SANDBOX_URL } from '../playwright.config';

const fixture = (name: string) => path.join(__dirname, '..', '..', 'tests', 'fixtures', 'media', name);

/** `YYYY-MM-DDTHH:MM` of a UTC instant, as a datetime-local input takes it in UTC. */
const local = (at: Date) => at.toISOString().slice(0, 16);

/** The calendar cell of a UTC day: "Saturday 5 December". */
const cellName = (day: Date) =>
  `${day.toLocaleString('en-GB', { weekday: 'long', timeZone: 'UTC' })} ${day.getUTCDate()} ${day.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' })}`;

test.describe('Images and video', () => {
  // A session of its own: it connects accounts (docs/operations.md, "Known limits").
  test.use({ storageState: '.auth/admin-3.json', timezoneId: 'UTC' });

  test('two described images go to two accounts with their own texts, previewed, scheduled, moved on the calendar and published', async ({ page, api, request }) => {
    test.setTimeout(240_000);
    const platform = await platformAt(api, request, 'sandbox', { instance_url: SANDBOX_URL });
    await connectAccount(page, platform.id, 'Oven Photos', 'Oven Photos');
    await connectAccount(page, platform.id, 'Second Oven', 'Second Oven');

    await open(page, '/posts');
    const text = unique('Fresh loaves');
    await page.getByLabel('Text', { exact: true }).fill(text);
    const group = page.getByRole('group', { name: platform.name });
    await group.getByRole('checkbox', { name: /^Oven Photos/ }).check();
    await group.getByRole('checkbox', { name: /^Second Oven/ }).check();
    await group.locator('summary', { hasText: 'Own text for Second Oven' }).click();
    await group.getByRole('textbox', { name: 'Own text for Second Oven' }).fill(`${text} at the second shop`);

    // A video over the sandbox's limit is refused before it goes up, in words.
    const picker = page.getByLabel('Add images or a video');
    const film = Buffer.alloc(9 * 1024 * 1024);
    Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0isommp42', 'binary').copy(film);
    await picker.setInputFiles({ name: 'film.mp4', mimeType: 'video/mp4', buffer: film });
    await expect(page.getByRole('alert').filter({ hasText: 'film.mp4: Sandbox takes video up to 8 MB; this one is 9 MB' })).toBeVisible();

    // Two images: each uploads, shows, and asks for its description.
    await picker.setInputFiles([fixture('photo.jpg'), fixture('photo-2.jpg')]);
    await expect(page.getByLabel('Alt text for file 2')).toBeVisible();
    await expect(page.getByText('film.mp4:')).toHaveCount(0);
    await page.getByLabel('Alt text for file 1').fill('Loaves cooling on a rack');
    await page.getByLabel('Alt text for file 2').fill('The oven at dawn');
    // Reordered with the keyboard-reachable buttons: the oven first.
    await page.getByRole('button', { name: 'Move file 2 earlier' }).click();
    await expect(page.getByLabel('Alt text for file 1')).toHaveValue('The oven at dawn');

    const previews = page.getByRole('region', { name: 'Preview' });
    for (const [name, shown] of [['Oven Photos', text], ['Second Oven', `${text} at the second shop`]]) {
      const card = previews.getByRole('article', { name: `Preview for ${name}` });
      await expect(card).toContainText(shown);
      await expect(card.getByRole('img', { name: 'The oven at dawn' })).toBeVisible();
      await expect(card.getByRole('img', { name: 'Loaves cooling on a rack' })).toBeVisible();
    }

    // Scheduled for tomorrow, a few minutes from now's time of day.
    const at = new Date(Math.ceil((Date.now() + 2 * 60_000) / 60_000) * 60_000);
    const tomorrow = new Date(at.getTime() + 24 * 3600_000);
    await page.getByLabel('Schedule').check();
    await page.getByLabel('Publish at (your time zone)').fill(local(tomorrow));
    await page.getByRole('button', { name: 'Schedule' }).click();
    await expect(page.getByRole('article', { name: new RegExp(`^Post: ${text.slice(0, 40)}`) })).toBeVisible();

    // On the calendar, dragged from tomorrow to today: it goes out at that time today.
    await open(page, '/calendar');
    const time = at.toISOString().slice(11, 16);
    const from = page.getByRole('cell', { name: cellName(tomorrow), exact: true });
    await expect(from).toContainText(`${time} ${text}`);
    const to = page.getByRole('cell', { name: cellName(at), exact: true });
    await from.getByRole('listitem').filter({ hasText: text }).first().dragTo(to);
    await expect(to).toContainText(`${time} ${text}`);

    // Published when its time comes, with both images in the chosen order on the sandbox.
    await open(page, '/posts');
    const post = page.getByRole('article', { name: new RegExp(`^Post: ${text.slice(0, 40)}`) });
    // Its images load lazily: below the fold (other journeys' posts come first) they have no
    // size until a person scrolls to them, as this does.
    await post.scrollIntoViewIfNeeded();
    await expect(post.getByRole('img', { name: 'The oven at dawn' })).toBeVisible();
    await expect(post.getByRole('link', { name: 'View post' })).toHaveCount(2, { timeout: 200_000 });
    const sandboxPost = await post.getByRole('link', { name: 'View post' }).first().getAttribute('href');
    await page.goto(sandboxPost!);
    const images = page.getByRole('img');
    await expect(images).toHaveCount(2);
    await expect(images.nth(0)).toHaveAttribute('alt', 'The oven at dawn');
    await expect(images.nth(1)).toHaveAttribute('alt', 'Loaves cooling on a rack');
    // Both pictures arrived whole: the browser decoded them.
    for (const i of [0, 1]) {
      expect(await images.nth(i).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(64);
    }
  });
});
