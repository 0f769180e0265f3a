import { describe, expect, it } from 'vitest';
import type { KubeClients } from '../../src/kube/client.ts';
import { LeaderElector } from '../../src/kube/leader-election.ts';

const base = {
  clients: {} as Pick<KubeClients, 'coordination'>,
  namespace: 'ns',
  name: 'lease',
  identity: 'me',
  callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} },
};

describe('LeaderElector configuration', () => {
  it('uses client-go defaults (15 s / 10 s / 2 s) without complaint', () => {
    expect(() => new LeaderElector(base)).not.toThrow();
  });

  it.each([
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, /leaseDuration must be greater than renewDeadline/],
    [{ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 2000 }, /renewDeadline must be greater than retryPeriod/],
    [{ leaseDurationMs: 3500, renewDeadlineMs: 2000, retryPeriodMs: 500 }, /whole seconds/],
    [{ identity: '' }, /identity is required/],
    [{ callbacks: { onStartedLeading: () => {} } }, /onStoppedLeading/],
  ])('rejects %o', (override, message) => {
    try {
      new LeaderElector({ ...base, ...(override as object) } as ConstructorParameters<typeof LeaderElector>[0]);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(message);
      expect((err as { code?: string }).code).toBe('KUBE_LEADER_CONFIG');
    }
  });
});
