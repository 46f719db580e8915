#!/usr/bin/env node
// Signs rpr plugins: ed25519 (node:crypto) over the sha256 of the plugin's .wasm.
//
//   node scripts/sign-plugin.mjs keygen [--out KEY.pem]
//       makes a key pair: the private key goes to KEY.pem (mode 0600, default rpr-signing-key.pem);
//       the public key is printed as ed25519:BASE64, the form [plugins] trusted_keys takes.
//   node scripts/sign-plugin.mjs pubkey --key KEY.pem
//       prints the public key of a private key.
//   node scripts/sign-plugin.mjs sign PLUGIN --key KEY.pem
//       PLUGIN is a plugin folder (plugin.toml + its wasm: writes PLUGIN/plugin.sig) or a bare .wasm
//       (writes PLUGIN.sig beside it). A folder's plugin.toml must match its wasm (runtime.sha256).
//   node scripts/sign-plugin.mjs verify PLUGIN --pubkey ed25519:BASE64
//       checks a signature (exit 1 if it does not verify with that key).
//
// plugin.sig is JSON: {"algorithm": "ed25519", "key": "ed25519:…", "sha256": "<hex>", "signature": "<base64>"},
// the signature being over the UTF-8 text "rpr-plugin-sha256:<hex>" (rpr's src/manage/signature.ts).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const usage = () => {
  console.error('usage: sign-plugin.mjs keygen [--out KEY.pem] | pubkey --key KEY.pem | sign PLUGIN --key KEY.pem | verify PLUGIN --pubkey ed25519:BASE64');
  process.exit(2);
};
const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  if (!args[at + 1]) usage();
  return args.splice(at, 2)[1];
};
const fail = (message) => {
  console.error(`sign-plugin: ${message}`);
  process.exit(1);
};

const message = (sha) => Buffer.from(`rpr-plugin-sha256:${sha}`, 'utf8');
const publicKeyText = (key) => `ed25519:${Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x, 'base64url').toString('base64')}`;

function readPrivateKey(file) {
  if (!file) fail('--key KEY.pem is required (make one with: sign-plugin.mjs keygen)');
  const key = createPrivateKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') fail(`${file} is a ${key.asymmetricKeyType} key; rpr signatures are ed25519`);
  return key;
}

/** The .wasm of PLUGIN and where its signature goes. */
function target(plugin) {
  if (!plugin || !existsSync(plugin)) fail(`${plugin ?? 'PLUGIN'}: no such file or folder`);
  if (statSync(plugin).isDirectory()) {
    const toml = readFileSync(path.join(plugin, 'plugin.toml'), 'utf8');
    const wasm = /^\s*wasm\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? 'plugin.wasm';
    const declared = /^\s*sha256\s*=\s*"([0-9a-fA-F]{64})"/m.exec(toml)?.[1]?.toLowerCase();
    const bytes = readFileSync(path.join(plugin, wasm));
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (declared !== sha) fail(`${path.join(plugin, 'plugin.toml')}: runtime.sha256 is ${declared ?? 'missing'}, ${wasm} is ${sha}; build the plugin again before signing`);
    return { sha, sigFile: path.join(plugin, 'plugin.sig') };
  }
  return { sha: createHash('sha256').update(readFileSync(plugin)).digest('hex'), sigFile: `${plugin}.sig` };
}

const command = args.shift();
if (command === 'keygen') {
  const out = flag('--out') ?? 'rpr-signing-key.pem';
  if (existsSync(out)) fail(`${out} exists; not overwriting a key`);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const pub = publicKeyText(privateKey);
  console.log(`private key: ${out} (keep it secret)`);
  console.log(`public key:  ${pub}`);
  console.log(`users trust it with, in their rpr config:\n  [plugins]\n  trusted_keys = ["${pub}"]`);
} else if (command === 'pubkey') {
  console.log(publicKeyText(readPrivateKey(flag('--key'))));
} else if (command === 'sign') {
  const key = readPrivateKey(flag('--key'));
  const { sha, sigFile } = target(args[0]);
  const doc = { algorithm: 'ed25519', key: publicKeyText(key), sha256: sha, signature: sign(null, message(sha), key).toString('base64') };
  writeFileSync(sigFile, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`signed sha256 ${sha} with ${doc.key}: ${sigFile}`);
} else if (command === 'verify') {
  const pub = flag('--pubkey');
  if (!pub) usage();
  const { sha, sigFile } = target(args[0]);
  const doc = JSON.parse(readFileSync(sigFile, 'utf8'));
  const raw = Buffer.from(pub.replace(/^ed25519:/, ''), 'base64');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  const ok = doc.sha256 === sha && verify(null, message(sha), key, Buffer.from(doc.signature, 'base64'));
  console.log(ok ? `ok: ${sigFile} is a valid signature of sha256 ${sha} by ${pub}` : `${sigFile} does not verify with ${pub} for sha256 ${sha}`);
  process.exitCode = ok ? 0 : 1;
} else usage();
