/**
 * Versions in manifests (plugin.version, dependencies.min_rpr_version), by the semver package:
 * pre-releases compare by their dot-separated parts (1.0.0-rc.10 after 1.0.0-rc.9), which a
 * hand-written comparison got wrong.
 */
// Its two functions, not the whole package (ranges and all): loaded with every plugin.
import semverCompare from 'semver/functions/compare.js';
import semverValid from 'semver/functions/valid.js';

export function isSemver(text: string): boolean {
  return semverValid(text) !== null && !/^[v=\s]/.test(text);
}

/** -1, 0 or 1. A pre-release sorts before its release (1.0.0-rc.1 < 1.0.0). */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  if (!isSemver(a) || !isSemver(b)) throw new Error(`not a semver version: ${isSemver(a) ? b : a}`);
  return semverCompare(a, b);
}
