/**
 * A publisher process for the cluster tests: puts one listing in the NATS registry, prints
 * `published <id>`, and keeps it alive with heartbeats until it is killed.
 *
 *   node --import tsx cluster-publisher-child.ts <nats url> <bucket> <ttl ms> <name> <id>
 */
import { createNatsRegistry } from '../src/cluster/index.js';

const [servers, bucket, ttl, name, id] = process.argv.slice(2);
if (
  servers === undefined ||
  bucket === undefined ||
  ttl === undefined ||
  name === undefined ||
  id === undefined
) {
  process.stderr.write(
    'usage: cluster-publisher-child.ts <nats url> <bucket> <ttl ms> <name> <id>\n',
  );
  process.exit(2);
}
const registry = await createNatsRegistry({
  servers,
  bucket,
  ttlMs: Number(ttl),
  onError: (error) => process.stderr.write(`${error.message}\n`),
});
await registry.put({ id, name, endpoints: [{ host: '10.0.0.9', port: 7000, scope: 'cluster' }] });
process.stdout.write(`published ${id}\n`);
