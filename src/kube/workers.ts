// Runs a bounded number of workers over a WorkQueue, the usual client-go controller loop:
// get → handle → forget on success / addRateLimited on failure → done. A handler error never
// escapes as an unhandled rejection; it is logged with its stage and key and the key retried.
import { defaultKubeLogger, type KubeLogger } from './watch-types.ts';
import type { WorkQueue } from './workqueue.ts';

/** The subset of a pino logger (or KubeLogger) the workers use. */
export type WorkerLogger = Pick<KubeLogger, 'error' | 'warn'>;

export interface RunWorkersOptions {
  logger?: WorkerLogger;
  /**
   * After this many consecutive failures of one key, drop it (forget, no re-add) and log it.
   * Default: retry forever, as Kube-OVN's controllers do.
   */
  maxRetries?: number;
}


function describeError(err: unknown): { stage: string; code: string | undefined; message: string } {
  if (err !== null && typeof err === 'object') {
    const e = err as { stage?: unknown; code?: unknown; message?: unknown };
    return {
      stage: typeof e.stage === 'string' ? e.stage : 'handle',
      code: typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined,
      message: typeof e.message === 'string' ? e.message : String(err),
    };
  }
  return { stage: 'handle', code: undefined, message: String(err) };
}

/**
 * Starts `concurrency` workers. Resolves when all of them have exited, i.e. after the queue has
 * been shut down and no key is left to hand out. The returned promise never rejects.
 */
export function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: (key: string) => Promise<void> | void,
  options: RunWorkersOptions = {},
): Promise<void> {
  // Bad configuration throws synchronously, before any worker starts.
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw Object.assign(new RangeError(`runWorkers(${queue.name}): concurrency must be an integer >= 1, got ${concurrency}`), {
      code: 'KUBE_WORKERS_CONFIG',
      stage: 'config',
    });
  }
  const logger = options.logger ?? defaultKubeLogger(`workers:${queue.name}`);
  const maxRetries = options.maxRetries ?? Infinity;

  const processOne = async (key: string): Promise<void> => {
    try {
      await handler(key);
      queue.forget(key);
    } catch (err) {
      const { stage, code, message } = describeError(err);
      const retries = queue.numRequeues(key);
      if (retries >= maxRetries) {
        queue.forget(key);
        safeLog(() => logger.warn({ queue: queue.name, key, stage, code, err: message, retries }, 'dropping key after too many failures'));
      } else {
        safeLog(() => logger.error({ queue: queue.name, key, stage, code, err: message, retries }, 'handler failed, requeued with backoff'));
        queue.addRateLimited(key);
      }
    } finally {
      queue.done(key);
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      await processOne(key);
    }
  };

  return Promise.all(Array.from({ length: concurrency }, () => worker())).then(() => undefined);
}

function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // Logging must not turn a handled error into an unhandled one.
  }
}
