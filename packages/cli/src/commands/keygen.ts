/**
 * `herald keygen <path>`: creates an identity key file (mode 0600) and prints its public
 * key. Not a main actor: it needs no runtime, and it must never replace a key file.
 */
import { createIdentity, formatPublicKey, saveIdentity } from '@herald/net';
import { EXIT_USAGE, type Command } from '../args.js';

const USAGE =
  'usage: herald keygen <path>\n\nCreates an identity key file at <path> (mode 0600) and ' +
  'prints its public key. Refuses to replace an existing file.\n\n' +
  'Exit codes: 0 created, 1 file exists or cannot be written, 2 usage error.\n';

export const keygenCommand: Command = {
  name: 'keygen',
  synopsis: 'keygen <path>',
  summary: 'create an identity key file (mode 0600), print its public key',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.length !== 1 || (args[0] as string).startsWith('-')) {
      process.stderr.write('herald keygen: expected exactly one argument, the key file path\n');
      return EXIT_USAGE;
    }
    const path = args[0] as string;
    const identity = createIdentity();
    try {
      await saveIdentity(path, identity);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'EEXIST' ? 'file exists (not replaced)' : (error as Error).message;
      process.stderr.write(`herald keygen: ${path}: ${reason}\n`);
      return 1;
    }
    process.stdout.write(`${formatPublicKey(identity.publicKey)}\n`);
    return 0;
  },
};
