/**
 * Plugin management (issue 6): installing, updating, removing, enabling, verifying the user's
 * plugins (manager.ts, install.ts, update.ts, remove.ts, verify.ts; the store's transactions in
 * store.ts), the integrity checks every load makes (integrity.ts: plugins.lock and
 * signatures), plugin sources (source.ts: files, folders, archives, URLs, bundled names),
 * `rpr plugins validate` (validate.ts) and `rpr plugins new` (scaffold.ts).
 */
export { discoverChecked, integrityConfig, loadCheck, checkInstalled, IntegrityError, type IntegrityConfig, type CheckedDiscovery } from './integrity.js';
export { manager, type ManageIO, type Manager } from './manager.js';
export { installPlugin } from './install.js';
export { updatePlugins } from './update.js';
export { enabledState, removePlugin, setEnabled } from './remove.js';
export { verifyPlugins, type VerifyLine } from './verify.js';
export { readLock, LOCK_FILE, MUTEX_FILE, STORE_DIR, withMutex, type LockEntry, type LockFile } from './lockfile.js';
export { permissionChanges, permissionLines } from './permissions-text.js';
export { scaffold, scaffoldFiles, LANGS, RPR_HOME, TEMPLATE_DIR, type PluginLang } from './scaffold.js';
export { checkSignature, parsePublicKey, signedMessage, SIGNATURE_FILE } from './signature.js';
export { validatePlugin, type Validation } from './validate.js';
export { resolveSource } from './source.js';
