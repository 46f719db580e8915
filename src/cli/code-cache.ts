import { readFileSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

type Load = (module: NodeJS.Module, filename: string) => void;
/** Node's CommonJS loader as require.extensions shows it (there since Node's first versions). */
interface CommonJsLoader {
  _extensions: Record<string, Load>;
  wrap(source: string): string;
}

/**
 * What an invocation runs, and so which of a chunk's caches fits it: a job ('job', with V8's flags
 * set by app/steady-gc.ts, which are part of a cache's key) or anything else ('cli': help, usage
 * errors, the other subcommands).
 */
export type CacheKind = 'job' | 'cli';

/**
 * Compiles the chunks of `dir` (the bundle's folder) from the V8 code cache the build made for each
 * (`chunk-*.js.KIND.cache`, scripts/code-cache.mjs). Compiling rpr's own chunks is a large part of a
 * job's start: V8 parses each chunk whole, then each function again on its first call; the cache
 * holds the functions that ran when it was made. Node 20 has no way to hand require() a cache
 * (module.enableCompileCache is Node 22, and keeps its cache in a folder of its own, /tmp by
 * default, where another user could plant one), so the chunks are compiled here as require() would,
 * with vm.Script's cachedData.
 * - A chunk without a cache, or whose cache V8 refuses (another Node, other V8 flags), compiles from
 *   its source: only slower.
 * - V8 checks a cache against its source's length only. The build writes dist/ anew, and a chunk's
 *   name holds its content's hash; a chunk changed after its cache was made (an edit by hand) is
 *   compiled from its source.
 * - Source maps (--enable-source-maps, RPR_DEBUG's traces) and V8 coverage (NODE_V8_COVERAGE, the
 *   tests') are read by Node's own loader only, so either leaves every chunk to it.
 */
export function compileWithCodeCache(dir: string, kind: CacheKind): void {
  if (process.sourceMapsEnabled || process.env.NODE_V8_COVERAGE) return;
  const loader = Module as unknown as CommonJsLoader;
  const loadJs = loader._extensions['.js']!;
  loader._extensions['.js'] = (module, filename) => {
    const cachedData = path.dirname(filename) === dir ? readCache(filename, `${filename}.${kind}.cache`) : undefined;
    if (cachedData === undefined) return loadJs(module, filename);
    compileChunk(module, filename, cachedData);
  };
}

/**
 * Compiles and runs one CommonJS file as require() would (its wrapper given exports, require,
 * module, __filename, __dirname), through vm.Script: with `cachedData`, from that code cache. The
 * script is returned for the build's cache writer (scripts/code-cache-preload.mjs).
 * @public the writer imports tsc's output of this file, which knip does not follow
 */
export function compileChunk(module: NodeJS.Module, filename: string, cachedData?: Buffer): vm.Script {
  const script = new vm.Script((Module as unknown as CommonJsLoader).wrap(readFileSync(filename, 'utf8')), { filename, ...(cachedData ? { cachedData } : {}) });
  const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, path.dirname(filename));
  return script;
}

function readCache(chunk: string, cache: string): Buffer | undefined {
  try {
    return statSync(chunk).mtimeMs > statSync(cache).mtimeMs ? undefined : readFileSync(cache);
  } catch {
    return undefined;
  }
}
