/**
 * `rpr plugins keygen` and `rpr plugins sign`: what a plugin author needs to publish signed
 * plugins (signature.ts says what a signature covers). A folder is signed as it will be installed
 * (its plugin.toml must parse and match its wasm); a bare .wasm with the permissions rpr gives one
 * (none).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RprError } from '../errors/index.js';
import { digestOf, noPermissions, permissionsDigest, readManifest } from '../plugins/index.js';
import { sha256Of } from './integrity.js';
import { KEY_PREFIX, SIGNATURE_FILE, signedMessage, type SignatureDoc } from './signature.js';

export const publicKeyText = (key: KeyObject): string => `${KEY_PREFIX}${Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x as string, 'base64url').toString('base64')}`;

/** Writes a new ed25519 private key to `out` (mode 0600, never over an existing file); returns its public key. */
export async function keygen(out: string): Promise<string> {
  if (existsSync(out)) throw new RprError('E_USAGE', `${out} exists; not overwriting a key`, { hint: 'give another --out' });
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  return publicKeyText(privateKey);
}

export async function readPrivateKey(file: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(file));
  } catch (error) {
    throw new RprError('E_USAGE', `${file}: not a private key (${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]})`, { hint: 'make one with rpr plugins keygen' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new RprError('E_USAGE', `${file} is a ${key.asymmetricKeyType} key; rpr signatures are ed25519`, { hint: 'make one with rpr plugins keygen' });
  return key;
}

/** What a signature of `target` covers, and where it goes. */
async function subject(target: string): Promise<{ sha256: string; permissions: string; sigFile: string }> {
  const info = await stat(target).catch(() => null);
  if (!info) throw new RprError('E_USAGE', `${target}: no such file or folder`, { hint: 'sign a plugin folder (plugin.toml and its wasm) or a .wasm' });
  if (info.isDirectory()) {
    const manifest = await readManifest(path.join(target, 'plugin.toml'));
    const sha256 = sha256Of(await readFile(manifest.wasm));
    if (sha256 !== manifest.sha256) {
      throw new RprError('E_USAGE', `${manifest.file}: runtime.sha256 is ${manifest.sha256}, ${path.basename(manifest.wasm)} is ${sha256}`, { hint: 'build the plugin again before signing' });
    }
    return { sha256, permissions: permissionsDigest(manifest), sigFile: path.join(target, SIGNATURE_FILE) };
  }
  return { sha256: sha256Of(await readFile(target)), permissions: digestOf(noPermissions(), path.dirname(target)), sigFile: `${target}.sig` };
}

/** Signs a plugin folder or .wasm with `keyFile`; returns the signature file and the key. */
export async function signPlugin(target: string, keyFile: string): Promise<{ sigFile: string; key: string; sha256: string }> {
  const key = await readPrivateKey(keyFile);
  const { sha256, permissions, sigFile } = await subject(target);
  const doc: SignatureDoc = {
    algorithm: 'ed25519',
    key: publicKeyText(key),
    sha256,
    permissions_sha256: permissions,
    signature: sign(null, signedMessage(sha256, permissions), key).toString('base64'),
  };
  await writeFile(sigFile, `${JSON.stringify(doc, null, 2)}\n`);
  return { sigFile, key: doc.key, sha256 };
}
