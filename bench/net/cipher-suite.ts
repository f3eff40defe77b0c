/**
 * The cipher suite both processes of bench/net.ts use for the encrypted case, chosen by
 * NET_BENCH_CIPHER=tweetnacl (default) or sodium-native.
 *
 * Why it is handed in rather than left to @herald/net's default: the Network loads
 * sodium-native with an `import()` that resolves from packages/net, where sodium-native is
 * not installed (it is a devDependency of the bench only, so the workspace tests keep
 * testing tweetnacl). The bench therefore resolves it from here and passes the suite through
 * the `cipherSuite` connection option, on both ends, so each run measures the suite it names.
 */
import { createRequire } from 'node:module';
import { loadCipherSuite, naclCipherSuite, type CipherSuite } from '@herald/net/wire';

/** The names NET_BENCH_CIPHER accepts. */
export const BENCH_CIPHERS = ['tweetnacl', 'sodium-native'] as const;
export type BenchCipher = (typeof BENCH_CIPHERS)[number];

const DEFAULT_BENCH_CIPHER: BenchCipher = 'tweetnacl';

export function benchCipherName(): BenchCipher {
  const name = process.env['NET_BENCH_CIPHER'] ?? DEFAULT_BENCH_CIPHER;
  const known = BENCH_CIPHERS.find((c) => c === name);
  if (known === undefined) {
    throw new Error(`NET_BENCH_CIPHER must be one of ${BENCH_CIPHERS.join(', ')}: ${name}`);
  }
  return known;
}

/** The suite NET_BENCH_CIPHER names; throws if sodium-native is asked for but cannot load. */
export async function benchCipherSuite(): Promise<CipherSuite> {
  if (benchCipherName() === 'tweetnacl') return naclCipherSuite;
  const require = createRequire(import.meta.url);
  const suite = await loadCipherSuite(async (specifier) => require(specifier) as unknown);
  if (suite === naclCipherSuite) {
    throw new Error('NET_BENCH_CIPHER=sodium-native but sodium-native cannot be loaded');
  }
  return suite;
}
