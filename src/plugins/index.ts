/** The plugin system's public surface. Only ./host/ touches @extism/extism. */
export { ABI_VERSION, CONTRACT, type PluginKind, type HostFunctionPermission } from './contract.js';
export { PluginError, isPluginError, type Grant, type PluginFailure } from './errors.js';
export { parseManifest, readManifest, parsePartialPermissions, ManifestError, CONTRACT_DEFAULTS as noPermissions } from './manifest/parse.js';
export { resolveConfig, coerce } from './manifest/schema.js';
export { pluginEnvName } from './manifest/env-name.js';
export { pinOf, pinText, pinDifferences, permissionsDigest, digestOf, type PinnedPermissions } from './manifest/pin.js';
export { compareSemver } from './manifest/semver.js';
export { discoverPlugins, userPluginDir, BUNDLED_PLUGIN_DIR, type Discovery, type DiscoveredPlugin, type DiscoverOptions } from './manifest/discover.js';
export { verifyManifest } from './manifest/verify.js';
export type { PluginManifest, Permissions, ConfigField, ConfigSchema, ConfigType } from './manifest/types.js';
export { effectivePermissions, type UserPermissions, type PermissionsInput } from './permissions/effective.js';
export { checkPlan } from './permissions/exec.js';
export { parseNetworkPattern, matchesUrl } from './permissions/network.js';
export {
  boundTail,
  schedulerState,
  toWireEvent,
  WIRE_EVENT_TYPES,
  checkDecision,
  type Ack,
  type Decision,
  type Description,
  type ExecutionPlan,
  type ExecutorCommand,
  type SchedulerState,
  type TopicMessage,
  type WireJobEvent,
} from './messages.js';
export { schedulerNext, executorPlan, outputDeliver } from './kinds.js';
export { loadPlugin, describeWasm, type LoadOptions } from './host/load.js';
export { PluginHandle, type PluginStats, type ReloadResult } from './host/handle.js';
export { TopicBus } from './host/bus.js';
export { clearModuleCache } from './host/compile.js';
export { placementReason } from './host/generation.js';
export { createSystemLoadSource, type SystemLoad, type SystemLoadSource } from './host/system-load.js';
