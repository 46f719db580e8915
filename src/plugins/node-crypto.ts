/**
 * node:crypto, loaded the first time it is used. Plugin discovery (every plugin subcommand and
 * `rpr --help`) reaches the code that hashes, pins and verifies installed plugins, but runs it only
 * when there is an installed plugin to check; loading node:crypto costs some 3 ms of CPU at start.
 */
import { createRequire } from 'node:module';

type NodeCrypto = typeof import('node:crypto');

const load = createRequire(import.meta.url);
let loaded: NodeCrypto | undefined;

export function nodeCrypto(): NodeCrypto {
  loaded ??= load('node:crypto') as NodeCrypto;
  return loaded;
}
