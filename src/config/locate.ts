/**
 * Which config file applies: --config FILE, else $RPR_CONFIG, else
 * $XDG_CONFIG_HOME/rpr/config.toml, else ~/.config/rpr/config.toml.
 * A file the user named must exist; the default one is optional, so that
 * rpr works out of the box with no file at all.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { RprError } from '../errors/index.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigLocation {
  path: string;
  /** How it was found: named by --config, by $RPR_CONFIG, or the default place. */
  origin: 'flag' | 'env' | 'default';
}

export interface LocateOptions {
  /** The --config value, if given. */
  explicit?: string | undefined;
  env?: Env;
  /** For tests; defaults to $HOME, then os.homedir(). */
  home?: string;
}

export function locateConfig(options: LocateOptions = {}): ConfigLocation | null {
  const env = options.env ?? process.env;
  if (options.explicit !== undefined && options.explicit !== '') {
    return mustExist({ path: options.explicit, origin: 'flag' }, `--config ${options.explicit}`);
  }
  const fromEnv = env.RPR_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') {
    return mustExist({ path: fromEnv, origin: 'env' }, `RPR_CONFIG=${fromEnv}`);
  }
  const path = defaultConfigPath(env, options.home);
  return exists(path) ? { path, origin: 'default' } : null;
}

/** Where the file is looked for when none is named. */
export function defaultConfigPath(env: Env = process.env, home?: string): string {
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'rpr', 'config.toml');
  return join(home ?? (env.HOME || homedir()), '.config', 'rpr', 'config.toml');
}

function mustExist(location: ConfigLocation, named: string): ConfigLocation {
  let stats;
  try {
    stats = statSync(location.path);
  } catch {
    throw new RprError('E_CONFIG', `${named}: no such file`, {
      hint: location.origin === 'env' ? 'fix the path, or unset RPR_CONFIG to use the default file' : 'check the path',
    });
  }
  if (stats.isDirectory()) throw new RprError('E_CONFIG', `${named}: is a directory, not a file`, { hint: 'name the .toml file itself' });
  return location;
}

function exists(path: string): boolean {
  try {
    // A directory or unreadable node at the default path is still reported by the loader.
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
