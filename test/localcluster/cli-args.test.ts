import { describe, expect, it } from 'vitest';
import { parseArgs, UP_HELP } from '../../src/cli/args.ts';

describe('ovnkit argument parsing', () => {
  it('defaults: one node, NB on, no northd, dir removed', () => {
    expect(parseArgs(['up'])).toEqual({ kind: 'up', flags: { nodes: 1, nb: true, northd: false, keep: false, dir: undefined } });
  });

  it('reads every documented flag, with separate and inline values', () => {
    expect(parseArgs(['up', '--nodes', '3', '--no-nb', '--keep', '--dir', '/tmp/x'])).toEqual({
      kind: 'up',
      flags: { nodes: 3, nb: false, northd: false, keep: true, dir: '/tmp/x' },
    });
    expect(parseArgs(['up', '--nodes=0', '--northd', '--dir=/d'])).toEqual({ kind: 'up', flags: { nodes: 0, nb: true, northd: true, keep: false, dir: '/d' } });
  });

  it('help for the program and for up', () => {
    expect(parseArgs([])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseArgs(['up', '-h'])).toEqual({ kind: 'help', topic: 'up' });
  });

  it('rejects unknown commands, unknown flags and bad values with a message', () => {
    const errors: [string[], RegExp][] = [
      [['down'], /unknown command "down"/],
      [['--verbose'], /unknown flag "--verbose"/],
      [['up', '--bogus'], /unknown flag "--bogus"/],
      [['up', 'extra'], /unknown argument "extra"/],
      [['up', '--nodes'], /--nodes needs a value/],
      [['up', '--nodes', 'two'], /whole number/],
      [['up', '--nodes', '-1'], /whole number/],
      [['up', '--nodes=1001'], /0 to 1000/],
      [['up', '--keep=yes'], /takes no value/],
      [['up', '--dir'], /--dir needs a directory/],
      [['up', '--no-nb', '--northd'], /--northd needs the NB database/],
    ];
    for (const [argv, message] of errors) {
      const parsed = parseArgs(argv);
      expect(parsed.kind, argv.join(' ')).toBe('error');
      if (parsed.kind === 'error') expect(parsed.message).toMatch(message);
    }
  });

  it('the help lists exactly the flags the parser accepts', () => {
    const listed = [...UP_HELP.matchAll(/^\s+(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1] as string).sort();
    expect(listed).toEqual(['--dir', '--help', '--keep', '--no-nb', '--nodes', '--northd']);
    for (const flag of listed) {
      const argv = flag === '--nodes' ? ['up', flag, '1'] : flag === '--dir' ? ['up', flag, '/x'] : ['up', flag];
      expect(parseArgs(argv).kind, flag).not.toBe('error');
    }
  });
});
