import type { Command } from 'commander';

/** Loaded by the command that runs: the plugin system is not needed for the help. */
const signing = (): Promise<typeof import('../manage/signing.js')> => import('../manage/signing.js');

/** `rpr plugins keygen | pubkey | sign`: keys and signatures for plugin authors. */
export function registerSignCommands(plugins: Command): void {
  plugins
    .command('keygen')
    .description('make an ed25519 key pair for signing plugins; prints the public key users trust')
    .option('--out <file>', 'where the private key goes (mode 0600)', 'rpr-signing-key.pem')
    .addHelpText('after', '\nExample:\n  rpr plugins keygen --out ~/.rpr-signing-key.pem')
    .action(async (opts: { out: string }) => {
      const pub = await (await signing()).keygen(opts.out);
      process.stdout.write(`private key: ${opts.out} (keep it secret)\npublic key:  ${pub}\nusers trust it with, in their rpr config:\n  [plugins]\n  trusted_keys = ["${pub}"]\n`);
    });

  plugins
    .command('pubkey')
    .description('print the public key of a private key')
    .requiredOption('--key <file>', 'the private key (from rpr plugins keygen)')
    .action(async (opts: { key: string }) => {
      const { publicKeyText, readPrivateKey } = await signing();
      process.stdout.write(`${publicKeyText(await readPrivateKey(opts.key))}\n`);
    });

  plugins
    .command('sign')
    .argument('<plugin>', 'a plugin folder (plugin.toml and its wasm: writes plugin.sig) or a .wasm (writes FILE.wasm.sig)')
    .description('sign a plugin: the signature covers its wasm and the permissions its plugin.toml asks for')
    .requiredOption('--key <file>', 'the private key (from rpr plugins keygen)')
    .addHelpText('after', '\nExample:\n  rpr plugins sign dist --key ~/.rpr-signing-key.pem\n  rpr plugins validate dist        # says who signed it')
    .action(async (target: string, opts: { key: string }) => {
      const { sigFile, key, sha256 } = await (await signing()).signPlugin(target, opts.key);
      process.stdout.write(`signed sha256 ${sha256} and its permissions with ${key}: ${sigFile}\n`);
    });
}
