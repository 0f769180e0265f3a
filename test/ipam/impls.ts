// Which IPAM backends the shared suites run against. The TS backend always; the native one
// only when it really loads. When it does not, the suites register a visibly skipped block
// with the reason, so a missing binary is never counted as a pass.
import { Ipam } from '../../src/ipam/index.ts';

// The suites choose the backend explicitly; an inherited override would silently swap it.
delete process.env.OVNKIT_IMPL;

export type ImplName = 'ts' | 'native';

function probeNative(): string | undefined {
  try {
    const ipam = new Ipam({ impl: 'native', macSeed: 0 });
    return ipam.impl === 'native' ? undefined : `impl resolved to ${ipam.impl}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const nativeUnavailable: string | undefined = probeNative();

export const impls: ImplName[] = nativeUnavailable === undefined ? ['ts', 'native'] : ['ts'];

if (nativeUnavailable !== undefined) {
  // `make test` builds the addon first and sets this: there a missing native backend is a failure.
  if (process.env.OVNKIT_REQUIRE_NATIVE === '1') {
    throw new Error(`OVNKIT_REQUIRE_NATIVE=1 but the native IPAM backend does not load: ${nativeUnavailable}`);
  }
  console.warn(`[ipam tests] native backend NOT tested: ${nativeUnavailable}`);
}

export function makeIpam(impl: ImplName, macSeed = 1): Ipam {
  const ipam = new Ipam({ impl, macSeed });
  if (ipam.impl !== impl) throw new Error(`asked for ${impl}, got ${ipam.impl}`);
  return ipam;
}
