import { RprError } from '../errors/index.js';
import type { LoadedConfig } from './types.js';

/**
 * Runs `check` and, when it fails with an RprError (now or, for a promise, later), names the config
 * file, line and key: a value read from [jobs.NAME] is wrong where it is written, not on a command line.
 */
export function withConfigLocation<T>(config: LoadedConfig, path: string[], check: () => T): T {
  const locate = (error: unknown): never => {
    if (!(error instanceof RprError)) throw error;
    const line = config.lineOf(path);
    throw new RprError(
      error.code === 'E_USAGE' ? 'E_CONFIG' : error.code,
      `${config.path}${line === undefined ? '' : `:${line}`}: ${path.join('.')}: ${error.message}`,
      error.hint === undefined ? {} : { hint: error.hint },
    );
  };
  try {
    const result = check();
    return (result instanceof Promise ? result.catch(locate) : result) as T;
  } catch (error) {
    return locate(error);
  }
}
