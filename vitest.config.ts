import { defineConfig } from 'vitest/config'

// Unit tests share one process: a fresh process per file cost more than their
// tests (90 s against 40 s for 106 files). The end-to-end tests and the soak
// each get their own, as the servers and signals they deal with ask.
const PROCESS_OF_THEIR_OWN = ['proxy/e2e/**', 'soak/**']

export default defineConfig({
  test: {
    globalSetup: ['proxy/e2e/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', ...PROCESS_OF_THEIR_OWN],
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: PROCESS_OF_THEIR_OWN.map((dir) => `${dir}/*.test.ts`) },
      },
    ],
  },
})
