import { defineConfig } from 'vitest/config';

/**
 * Four projects, all run by `npm test`:
 * - unit: tests beside their modules;
 * - property: fast-check suites (>= 1,000 runs per property);
 * - conformance-fake: the shared conformance specs against the in-process fakes;
 * - conformance-containerd: the same specs against a real containerd that ci/ provisions
 *   (or against CRI_ENDPOINT when set). It fails, never skips, when neither is possible.
 */
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    // The containerd project's teardown stops pods and daemons through the CRI; give it time before vitest gives up.
    teardownTimeout: 60_000,
    outputFile: { junit: '.tmp/reports/vitest-junit.xml' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['agent/**/*.test.ts', 'fakes/**/*.test.ts', 'ci/**/*.test.ts', 'conformance/framework/**/*.test.ts', 'bench/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'property',
          include: ['property-tests/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'conformance-fake',
          include: ['conformance/targets/fake.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'conformance-containerd',
          include: ['conformance/targets/containerd.test.ts'],
          globalSetup: ['ci/vitest/containerd-global-setup.ts'],
          // One real runtime: run its specs one file at a time.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
