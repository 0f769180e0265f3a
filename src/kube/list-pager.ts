// Paginated LIST (limit/continue). Pages are handed to the caller as they arrive so it can trim
// and store each page and let the raw JSON go, instead of holding the whole collection twice.
import type { KubeTransport, Query } from './watch-transport.ts';
import { KubeWatchError } from './watch-types.ts';

export interface ListPage {
  items: unknown[];
  /** 1-based page number within this list. */
  page: number;
}

export interface ListOptions {
  /** Items per page (the apiserver's `limit`). 0 = unpaginated. */
  pageSize: number;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Passed as `resourceVersion` on the first page. Unset or '' = a consistent read from etcd
   * (what a relist after 410 needs); '0' = any cached state, which can be older than what was seen.
   */
  resourceVersion?: string;
  signal: AbortSignal;
  onPage: (page: ListPage) => void;
  /** Called when a continue token expired and the list starts over; the caller must drop what it kept. */
  onRestart?: (reason: string) => void;
}

export interface ListResult {
  resourceVersion: string;
  pages: number;
  items: number;
  restarts: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Lists a whole collection. If a continue token expires mid-way (410 on a later page: the snapshot
 * was compacted), the list restarts from the first page once; a second expiry is returned as an error.
 */
export async function listAll(transport: KubeTransport, path: string, options: ListOptions): Promise<ListResult> {
  let restarts = 0;
  for (;;) {
    let continueToken: string | undefined;
    let page = 0;
    let items = 0;
    let resourceVersion = '';
    try {
      do {
        const query: Query = {
          limit: options.pageSize > 0 ? options.pageSize : undefined,
          continue: continueToken,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          // resourceVersion only applies to the first page; later pages are pinned by the token.
          resourceVersion: continueToken === undefined ? options.resourceVersion : undefined,
        };
        const body = await transport.getJson(path, query, options.signal);
        if (!isRecord(body) || !Array.isArray(body.items) || !isRecord(body.metadata)) {
          throw new KubeWatchError('BAD_RESPONSE', 'list', path, 'response is not a list (items[] and metadata expected)');
        }
        const rv = body.metadata.resourceVersion;
        if (typeof rv !== 'string' || rv === '') {
          throw new KubeWatchError('BAD_RESPONSE', 'list', path, 'list has no metadata.resourceVersion');
        }
        resourceVersion = rv;
        page++;
        items += body.items.length;
        options.onPage({ items: body.items, page });
        const next = body.metadata.continue;
        continueToken = typeof next === 'string' && next !== '' ? next : undefined;
      } while (continueToken !== undefined);
      return { resourceVersion, pages: page, items, restarts };
    } catch (err) {
      const expiredMidList = err instanceof KubeWatchError && err.expired && continueToken !== undefined;
      if (!expiredMidList || restarts >= 1) throw err;
      restarts++;
      options.onRestart?.(`continue token expired after page ${page}`);
    }
  }
}
