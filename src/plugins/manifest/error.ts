import { RprError } from '../../errors/index.js';
import { packageFile } from '../../package-files.js';

/** A plugin.toml that cannot be used: the message names the file and the reason. */
export class ManifestError extends RprError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('E_PLUGIN', `${file}: ${reason}`, { hint: `see ${packageFile('docs/plugins.md')} for the plugin.toml format` });
    this.name = 'ManifestError';
  }
}
