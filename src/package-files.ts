import { fileURLToPath } from 'node:url';

/**
 * A file shipped in the package (docs/, wit/), by its absolute path: hints must name where the
 * user's copy is (a global npm install, a clone), not a path relative to rpr's repository.
 */
export const packageFile = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url));
