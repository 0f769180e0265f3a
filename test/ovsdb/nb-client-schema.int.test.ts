// NbClient against a server whose schema lacks columns NbClient would write (as an older OVN
// lacks columns Kube-OVN's 7.11 models have): the columns are left out, the server accepts the
// rows, and repeats stay idempotent.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NB_SCHEMA, type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import type { OvsdbSchemaJson } from '../../src/ovsdb/model.ts';
import { NbClient } from '../../src/ovsdb/nb-client.ts';

let dir: string;
let server: NbServer;
let nb: NbClient;
const DROPPED = ['port_security', 'dhcpv4_options', 'dhcpv6_options'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ovnkit-nb-schema-'));
  const schema = JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as OvsdbSchemaJson;
  for (const col of DROPPED) delete schema.tables.Logical_Switch_Port!.columns[col];
  const trimmed = join(dir, 'trimmed-nb.ovsschema');
  writeFileSync(trimmed, JSON.stringify(schema));
  server = await startNbServer({ schema: trimmed });
  nb = await NbClient.connect(server.remote);
});

afterAll(async () => {
  await nb?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('NbClient on a schema without some LSP columns', () => {
  it('leaves the missing columns out and stays idempotent', async () => {
    for (const col of DROPPED) expect(nb.client.hasColumn('Logical_Switch_Port', col)).toBe(false);
    await nb.ensureClusterRouter();
    await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });
    const spec = { pod: 'a', namespace: 'ns', subnet: 'ovn-default', mac: '00:00:00:00:00:0a', ips: ['10.16.0.10'], portSecurity: true, dhcpv4Options: '11111111-2222-3333-4444-555555555555' };
    expect((await nb.createOrUpdatePodPort(spec)).outcome).toBe('created');
    expect((await nb.createOrUpdatePodPort(spec)).outcome).toBe('unchanged');
    expect((await nb.createOrUpdatePodPort({ ...spec, ips: ['10.16.0.11'] })).outcome).toBe('updated');

    const [sel] = await nb.client.transact('OVN_Northbound', [{ op: 'select', table: 'Logical_Switch_Port', where: [['name', '==', 'a.ns']] }]);
    const row = (sel as { rows: Record<string, unknown>[] }).rows[0]!;
    expect(row.addresses).toBe('00:00:00:00:00:0a 10.16.0.11');
    for (const col of DROPPED) expect(row).not.toHaveProperty(col);

    // what the guard saves us from: the client refuses the column before sending
    await expect(
      nb.client.transact('OVN_Northbound', [{ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'x', port_security: ['set', []] } }]),
    ).rejects.toMatchObject({ code: 'unknown column' });
  });
});
