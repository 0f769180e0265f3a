// Entry point for OVSDB request encoding: picks the Rust (N-API) or the TS encoder. Both produce
// the same bytes; see docs/ovsdb-encoding.md for the wire facts and the measured costs.
import { chooseImpl } from '../native/load.ts';
import type { Impl } from '../native/load.ts';
import { NativeOvsdbEncoder, hasNativeEncoder } from './encoder-native.ts';
import { TsOvsdbEncoder } from './encoder-ts.ts';
import type { MonitorRequests, TransactItem } from './encoder-ts.ts';
import type { Operation, RpcId } from './protocol.ts';

export { EncodeError, ENCODE_ERROR_CODE } from './encoder-error.ts';
export type { EncodeErrorContext } from './encoder-error.ts';
export type { MonitorRequests, TransactItem } from './encoder-ts.ts';

/** Encodes JSON-RPC requests (and the replies we send) straight into Buffers for the socket. */
export interface OvsdbEncoder {
  readonly impl: 'native' | 'ts';
  /** Any method with arbitrary JSON params (strict: undefined, NaN, functions, ... are refused). */
  request(method: string, params: readonly unknown[], id: RpcId): Buffer;
  transact(id: RpcId, database: string, ops: readonly Operation[]): Buffer;
  /** Several transact requests concatenated, in one call (pipelining). */
  transactBatch(items: readonly TransactItem[]): Buffer;
  /** A reply to a server request, e.g. the inactivity-probe echo: {"id":…,"result":…,"error":null}. */
  reply(id: RpcId, result: unknown): Buffer;
  monitorCond(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests): Buffer;
  monitorCondSince(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests, lastTxnId: string): Buffer;
  monitorCancel(id: RpcId, monitorId: unknown): Buffer;
  getSchema(id: RpcId, database: string): Buffer;
  listDbs(id: RpcId): Buffer;
  echo(id: RpcId, params?: readonly unknown[]): Buffer;
  setDbChangeAware(id: RpcId, aware: boolean): Buffer;
  lock(id: RpcId, lockId: string): Buffer;
  steal(id: RpcId, lockId: string): Buffer;
  unlock(id: RpcId, lockId: string): Buffer;
}

/**
 * 'native' needs the addon (throws naming the load error); 'auto' (default) uses it when it
 * loads and carries the encoder; 'ts' never loads it. OVNKIT_IMPL overrides the argument.
 */
export function createEncoder(impl?: Impl): OvsdbEncoder {
  const { native } = chooseImpl('ovsdb-encoder', impl);
  if (native === undefined) return new TsOvsdbEncoder();
  if (!hasNativeEncoder(native)) {
    if (impl === 'native' || process.env.OVNKIT_IMPL === 'native') {
      throw new Error('ovsdb-encoder: impl native requested but the loaded addon has no OVSDB encoder (rebuild with npm run build:native)');
    }
    return new TsOvsdbEncoder();
  }
  return new NativeOvsdbEncoder(native);
}
