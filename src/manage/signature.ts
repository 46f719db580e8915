/**
 * Plugin signatures: ed25519 (node:crypto) over the wasm's sha256 and the digest of the permissions
 * its manifest asks for (plugins/manifest/pin.ts): a signed plugin whose plugin.toml was given more
 * permissions afterwards no longer verifies. A signature lives in `plugin.sig` beside plugin.toml
 * (or FILE.wasm.sig beside a bare .wasm, whose generated manifest asks for nothing):
 *
 *   { "algorithm": "ed25519", "key": "ed25519:BASE64", "sha256": "<hex>", "permissions_sha256": "<hex>", "signature": "BASE64" }
 *
 * The signed bytes are the UTF-8 text `rpr-plugin-v2:<wasm sha256>:<permissions sha256>`: the prefix
 * keeps a plugin signature from meaning anything else signed with the same key. Keys are written
 * `ed25519:` + base64 of the raw 32-byte public key; `[plugins] trusted_keys` lists the ones whose
 * signatures count. `rpr plugins keygen` and `rpr plugins sign` make keys and signatures.
 */
import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../plugins/node-crypto.js';

export const SIGNATURE_FILE = 'plugin.sig';
export const KEY_PREFIX = 'ed25519:';

export interface SignatureDoc {
  algorithm: 'ed25519';
  key: string;
  sha256: string;
  permissions_sha256: string;
  signature: string;
}

export const signedMessage = (sha256: string, permissionsSha256: string): Buffer => Buffer.from(`rpr-plugin-v2:${sha256}:${permissionsSha256}`, 'utf8');

/** ed25519:BASE64 (raw 32-byte key) -> a public KeyObject; a reason string if it is not one. */
function parsePublicKey(text: string): KeyObject | string {
  const body = text.trim().startsWith(KEY_PREFIX) ? text.trim().slice(KEY_PREFIX.length) : text.trim();
  const raw = Buffer.from(body, 'base64');
  if (raw.length !== 32 || raw.toString('base64').replace(/=+$/, '') !== body.replace(/=+$/, '')) {
    return `"${text}" is not an ed25519 public key (expected ed25519: and the base64 of 32 bytes)`;
  }
  return nodeCrypto().createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The canonical spelling of a key (so that config and signature compare as text). */
function canonicalKey(text: string): string | null {
  const key = parsePublicKey(text);
  if (typeof key === 'string') return null;
  const jwk = key.export({ format: 'jwk' });
  return `${KEY_PREFIX}${Buffer.from(jwk.x as string, 'base64url').toString('base64')}`;
}

/** A short form for messages: the first 12 characters of the base64. */
export const keyId = (key: string): string => `${key.slice(0, KEY_PREFIX.length + 12)}…`;

/** Parses a plugin.sig text; a reason string if it is malformed. */
function parseSignature(text: string): SignatureDoc | string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'is not JSON';
  }
  if (doc === null || typeof doc !== 'object') return 'is not a JSON object';
  if (doc.algorithm !== 'ed25519') return `algorithm must be "ed25519" (got ${JSON.stringify(doc.algorithm)})`;
  for (const key of ['key', 'sha256', 'signature'] as const) if (typeof doc[key] !== 'string') return `"${key}" must be a string`;
  if (typeof doc.permissions_sha256 !== 'string') return 'signs the wasm only (an older format), not the permissions it asks for; sign it again with rpr plugins sign';
  return doc as unknown as SignatureDoc;
}

export type SignatureVerdict = { status: 'unsigned' } | { status: 'invalid'; reason: string } | { status: 'untrusted'; key: string } | { status: 'trusted'; key: string };

/**
 * What a signature says about a wasm whose actual sha256 is `sha256` and a manifest whose
 * permissions digest is `permissionsSha256`: `invalid` when it does not verify (or is for other
 * content), `untrusted` when it verifies with a key not in `trusted`.
 */
export function checkSignature(text: string | null, sha256: string, permissionsSha256: string, trusted: readonly string[]): SignatureVerdict {
  if (text === null) return { status: 'unsigned' };
  const doc = parseSignature(text);
  if (typeof doc === 'string') return { status: 'invalid', reason: `${SIGNATURE_FILE} ${doc}` };
  if (doc.sha256 !== sha256) return { status: 'invalid', reason: `${SIGNATURE_FILE} is for sha256 ${doc.sha256}, the wasm is ${sha256}` };
  if (doc.permissions_sha256 !== permissionsSha256) {
    return { status: 'invalid', reason: `${SIGNATURE_FILE} was made for other permissions than plugin.toml asks for now (permissions sha256 ${doc.permissions_sha256}, now ${permissionsSha256})` };
  }
  const key = parsePublicKey(doc.key);
  if (typeof key === 'string') return { status: 'invalid', reason: `${SIGNATURE_FILE}: ${key}` };
  let ok = false;
  try {
    ok = nodeCrypto().verify(null, signedMessage(sha256, permissionsSha256), key, Buffer.from(doc.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) return { status: 'invalid', reason: `${SIGNATURE_FILE}: the signature does not verify with key ${keyId(doc.key)}` };
  const canonical = canonicalKey(doc.key)!;
  const trustedSet = new Set(trusted.map((k) => canonicalKey(k)).filter((k): k is string => k !== null));
  return trustedSet.has(canonical) ? { status: 'trusted', key: canonical } : { status: 'untrusted', key: canonical };
}

/** Problems with configured trusted keys (each unparseable one). */
export function badTrustedKeys(trusted: readonly string[]): string[] {
  return trusted.map((k) => parsePublicKey(k)).filter((k): k is string => typeof k === 'string');
}
