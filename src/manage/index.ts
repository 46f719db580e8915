/**
 * Plugin management (issue 6): installing, updating, removing, enabling, verifying the user's
 * plugins (manager.ts, install.ts, update.ts, remove.ts, verify.ts; the store's transactions in
 * store.ts), the integrity checks every load makes (integrity.ts: plugins.lock and
 * signatures), plugin sources (source.ts: files, folders, archives, URLs, bundled names),
 * `rpr plugins validate` (validate.ts) and `rpr plugins new` (scaffold.ts).
 */
export { discoverChecked } from './integrity.js';
export { manager, type ManageIO, type Manager } from './manager.js';
export { installPlugin } from './install.js';
export { updatePlugins } from './update.js';
export { enabledState, removePlugin, setEnabled } from './remove.js';
export { verifyPlugins } from './verify.js';
export { readLock, type LockEntry } from './lockfile.js';
export { permissionLines } from './permissions-text.js';
export { scaffold, type PluginLang } from './scaffold.js';
export { validatePlugin } from './validate.js';
