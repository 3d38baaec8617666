import { defineConfig } from '@playwright/test';
import { randomBytes } from 'node:crypto';

// One fresh server per run: the debug build `make run` serves, on its own port, with an
// empty SQLite database and a throwaway key.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${PORT}`;
// keyport-sandbox, the offline OAuth provider; Keyport seeds its "Sandbox" platform at start.
// Tokens live 60 s, inside Keyport's 5-minute refresh window: every use refreshes them.
export const SANDBOX_URL = `http://127.0.0.1:${PORT + 1}`;
// The root key, set once in the runner's environment so every worker (which re-reads this
// file) sees the same. A new database's first data key takes ENCRYPTION_KEY_VERSION, so
// the journeys see v2; the keys journey rotates to v3 after all of them (project
// 'rotation').
process.env.E2E_ROOT_KEY ??= randomBytes(32).toString('base64');
export const DATABASE_URL = 'sqlite://target/e2e/keyport.db';

export const chromium = {
  browserName: 'chromium' as const,
  launchOptions: {
    // Playwright cannot download browsers here; Debian's chromium is installed by scripts/setup.sh.
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  },
};

export default defineConfig({
  testDir: './tests',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  use: { baseURL, trace: 'retain-on-failure' },
  projects: [
    // First-run set-up through the UI; it leaves sessions and an API token for the others.
    { name: 'setup', use: { ...chromium }, testMatch: /auth\.setup\.ts/ },
    {
      name: 'hydrated',
      use: { ...chromium, storageState: '.auth/admin.json' },
      grepInvert: /@nojs/,
      testIgnore: /keys\.spec\.ts/,
      dependencies: ['setup'],
    },
    // The same server without JavaScript: pages and forms must work before the WASM loads.
    {
      name: 'no-js',
      use: { ...chromium, javaScriptEnabled: false, storageState: '.auth/admin.json' },
      grep: /@nojs/,
      dependencies: ['setup'],
    },
    // Rotate now changes the key every badge names: last, alone.
    {
      name: 'rotation',
      use: { ...chromium, storageState: '.auth/admin.json' },
      testMatch: /keys\.spec\.ts/,
      dependencies: ['hydrated', 'no-js'],
    },
  ],
  webServer: [{
    // --min-renew-age 0: Instagram's renewal journey moves the token's age in the database,
    // which the sandbox's own clock cannot see.
    command: `exec ./target/debug/keyport-sandbox --addr 127.0.0.1:${PORT + 1} --token-ttl 60 --min-renew-age 0`,
    cwd: '..',
    url: `${SANDBOX_URL}/.well-known/oauth-authorization-server`,
    reuseExistingServer: false,
    timeout: 30_000,
    env: { RUST_LOG: 'warn' },
  }, {
    command: 'rm -rf target/e2e && mkdir -p target/e2e && exec ./target/debug/keyport serve',
    cwd: '..',
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    // Every variable the server needs, and no `.env`: a person's `make run` set-up (PUBLIC_URL
    // on port 3000, their key) must not leak into the test server.
    env: {
      KEYPORT_DOTENV: 'off',
      PUBLIC_URL: baseURL,
      DATABASE_URL,
      MEDIA_DIR: 'target/e2e/media',
      ENCRYPTION_KEY: process.env.E2E_ROOT_KEY,
      ENCRYPTION_KEY_VERSION: '2',
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      SANDBOX_URL,
      ALLOW_INSECURE_PROVIDERS: '1', // the sandbox: a provider on this machine, over http
      // Quick retries, so a failing delivery gives up within seconds in the journeys.
      PUBLISH_MAX_ATTEMPTS: '2',
      PUBLISH_RETRY_BASE_SECONDS: '1',
      // The background refresher's rounds, short enough for a journey to watch one.
      TOKEN_REFRESH_INTERVAL_SECONDS: '5',
      RUST_LOG: 'warn',
    },
  }],
});
