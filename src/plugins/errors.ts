/**
 * PluginError: every way a plugin can fail, as one RprError subclass that always names the plugin
 * and the function, so a user reading one stderr line knows which plugin did what.
 */
import { RprError } from '../errors/index.js';
import { printableLine } from '../errors/printable.js';

/** A plugin's own words in a message (error reports, describe() names) are bounded like its log lines. */
const DETAIL_CHARS = 1000;

export type PluginFailure =
  | 'load' // manifest, wasm or instance creation failed
  | 'abi' // the module does not match wit/ (imports, exports, describe)
  | 'timeout' // the call ran past its timeout; the instance was stopped
  | 'trap' // the wasm trapped (unreachable, out of memory, out-of-bounds ...)
  | 'worker-died' // the worker thread running the plugin went away
  | 'malformed' // the answer is not the JSON the contract asks for
  | 'too-large' // the answer is bigger than the contract allows
  | 'plugin-error' // the plugin reported an error itself (error_set, or {ok:false})
  | 'denied' // the plugin asked for something its permissions do not grant
  | 'closed'; // the handle was closed

/** What the user would grant to allow a denied request: a [plugins.NAME.permissions] key and a value. */
export interface Grant {
  key: 'network' | 'host_functions' | 'emit' | 'exec' | 'exec_env';
  value: string;
}

export interface PluginErrorOptions {
  hint?: string;
  cause?: unknown;
  /** For denials: what would allow it. */
  grant?: Grant;
}

export class PluginError extends RprError {
  readonly plugin: string;
  /** The export called, or "load" / a host function name. */
  readonly fn: string;
  readonly failure: PluginFailure;
  readonly grant: Grant | undefined;
  constructor(plugin: string, fn: string, failure: PluginFailure, detail: string, options: PluginErrorOptions = {}) {
    super(failure === 'denied' ? 'E_PLUGIN_DENIED' : 'E_PLUGIN', `plugin "${plugin}" ${fn}: ${printableLine(detail, DETAIL_CHARS)}`, options);
    this.name = 'PluginError';
    this.plugin = plugin;
    this.fn = fn;
    this.failure = failure;
    this.grant = options.grant;
  }
}

export function isPluginError(error: unknown): error is PluginError {
  return error instanceof PluginError;
}

/** A denial: what the plugin asked for, in words a user can grant (or not). */
export function denied(plugin: string, what: string, detail: string, hint?: string, grant?: Grant): PluginError {
  return new PluginError(plugin, what, 'denied', detail, { ...(hint === undefined ? {} : { hint }), ...(grant ? { grant } : {}) });
}
