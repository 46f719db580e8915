import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RprError } from '../errors/index.js';

/**
 * Checks before the first run that the program exists and may be executed,
 * so that a typo is one clear usage error instead of N failed runs.
 * Returns the path it found (PATH lookup as execvp does it).
 */
export function resolveCommand(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = file.includes('/')
    ? [file]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, file));
  let denied: string | undefined;
  for (const candidate of candidates) {
    let isFile = false;
    try {
      isFile = statSync(candidate).isFile();
    } catch {
      continue;
    }
    if (!isFile) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      denied ??= candidate;
    }
  }
  if (denied) {
    throw new RprError('E_COMMAND_NOT_EXECUTABLE', `command not executable: ${denied}`, {
      hint: `chmod +x ${denied}, or run it through its interpreter`,
    });
  }
  throw new RprError('E_COMMAND_NOT_FOUND', `command not found: ${file}`, {
    hint: file.includes('/') ? 'check the path' : 'check the spelling and $PATH, or use --shell for shell builtins',
  });
}
