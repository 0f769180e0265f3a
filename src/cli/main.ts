#!/usr/bin/env node
// The `ovnkit` command. Exit codes: 0 ok, 1 failure, 2 usage error.
import { MAIN_HELP, parseArgs, UP_HELP } from './args.ts';
import { runUp } from './up.ts';

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(parsed.topic === 'up' ? UP_HELP : MAIN_HELP);
      return 0;
    case 'error':
      process.stderr.write(`ovnkit: ${parsed.message}\n`);
      return 2;
    case 'up':
      return runUp(parsed.flags);
  }
}

process.exitCode = await main(process.argv.slice(2));
