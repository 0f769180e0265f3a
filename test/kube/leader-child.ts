// A leader-election candidate in its own process, so a test can SIGKILL a leader (no release,
// no goodbye). Usage: node test/kube/leader-child.ts <kubeconfig> <namespace> <lease> <identity>
import { makeKubeClients } from '../../src/kube/client.ts';
import { LeaderElector } from '../../src/kube/leader-election.ts';

const [kubeconfig, namespace, lease, identity] = process.argv.slice(2);
if (kubeconfig === undefined || namespace === undefined || lease === undefined || identity === undefined) {
  console.error('usage: leader-child.ts <kubeconfig> <namespace> <lease> <identity>');
  process.exit(2);
}
const elector = new LeaderElector({
  clients: makeKubeClients(kubeconfig),
  namespace,
  name: lease,
  identity,
  leaseDurationMs: 3000,
  renewDeadlineMs: 2000,
  retryPeriodMs: 500,
  logger: { error: () => {}, warn: () => {}, info: () => {} },
  callbacks: {
    onStartedLeading: () => void process.stdout.write('LEADING\n'),
    onStoppedLeading: () => void process.stdout.write('STOPPED\n'),
  },
});
void elector.run();
