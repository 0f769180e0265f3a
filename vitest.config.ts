import { defineConfig } from 'vitest/config';

// Two projects: fast pure-logic unit tests, and integration tests that start real servers
// (ovsdb-server, etcd, kube-apiserver, ...). Integration files run one at a time because each
// may start a whole control plane and the machines have two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
