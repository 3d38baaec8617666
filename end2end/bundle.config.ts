import { defineConfig } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { chromium } from './playwright.config';

// `make test-bundle`: the release bundle as `make release` builds it (optimized, split into a
// main module and one module per page), served by the debug server in a copy of its own
// folder with the release build's hash file beside it, on an empty database.
const PORT = Number(process.env.E2E_BUNDLE_PORT ?? 3150);

export default defineConfig({
  testDir: './bundle',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    ...chromium,
  },
  webServer: {
    command: 'rm -rf target/bundle && mkdir -p target/bundle && cp target/debug/keyport target/release/hash.txt target/bundle/ && exec target/bundle/keyport serve',
    cwd: '..',
    url: `http://127.0.0.1:${PORT}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      KEYPORT_DOTENV: 'off',
      PUBLIC_URL: `http://127.0.0.1:${PORT}`,
      DATABASE_URL: 'sqlite://target/bundle/keyport.db',
      MEDIA_DIR: 'target/bundle/media',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      RUST_LOG: 'warn',
    },
  },
});
