// The one error type both encoders (Rust and TS) raise for input they cannot put on the wire.

export const ENCODE_ERROR_CODE = 'EncodeError';

export interface EncodeErrorContext {
  /** Index of the transaction in a batch, when the error is in transactBatch. */
  batchIndex?: number;
  /** Index of the operation inside its transaction. */
  opIndex?: number;
  /** Table of that operation, when known. */
  table?: string;
  /** Which method was being encoded. */
  method?: string;
}

/** Bad input to an OVSDB encoder: an unknown op, a malformed value, a bad named-uuid, NaN, ... */
export class EncodeError extends Error {
  readonly code = ENCODE_ERROR_CODE;
  readonly stage = 'encode';
  readonly reason: string;
  readonly context: EncodeErrorContext;

  constructor(reason: string, context: EncodeErrorContext = {}) {
    super(`ovsdb encode: ${describe(context)}${reason}`);
    this.name = 'EncodeError';
    this.reason = reason;
    this.context = context;
  }

  /** Re-raises with more context (the outer loop knows the op index and table, the inner one does not). */
  withContext(extra: EncodeErrorContext): EncodeError {
    return new EncodeError(this.reason, { ...extra, ...this.context });
  }
}

function describe(ctx: EncodeErrorContext): string {
  const parts: string[] = [];
  if (ctx.method !== undefined) parts.push(`method ${ctx.method}`);
  if (ctx.batchIndex !== undefined) parts.push(`transaction ${ctx.batchIndex}`);
  if (ctx.opIndex !== undefined) parts.push(`op ${ctx.opIndex}`);
  if (ctx.table !== undefined) parts.push(`table ${JSON.stringify(ctx.table)}`);
  return parts.length === 0 ? '' : `${parts.join(', ')}: `;
}
