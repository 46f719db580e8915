import type { Command, Option } from 'commander';
import { takesValue } from './argv.js';

/** What completion offers besides the program's own words: plugins by kind, and the config's jobs. */
export interface CompletionData {
  plugins: { name: string; kind: string }[];
  /** Plugins turned off (`rpr plugins enable` offers them). */
  disabled: string[];
  jobs: string[];
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const visible = (cmd: Command): Command[] => cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
const optionOf = (cmd: Command, flag: string): Option | undefined => cmd.options.find((o) => o.long === flag || o.short === flag);
const needsValue = (option: Option | undefined, flag: string): boolean => (option ? option.required || option.optional : takesValue(flag));

/** Plugin names for a value: --executor and --output take one kind; --set and --allow any, with what follows. */
function pluginValues(flag: string, cur: string, data: CompletionData): string[] {
  const names = (kind?: string): string[] => data.plugins.filter((p) => kind === undefined || p.kind === kind).map((p) => p.name);
  switch (flag) {
    case '--executor':
      return names('executor');
    case '--output': {
      // A comma-separated list: complete its last name, keeping those before it.
      const head = cur.slice(0, cur.lastIndexOf(',') + 1);
      return names('output').map((n) => head + n);
    }
    case '--set':
      return names().map((n) => `${n}.`);
    case '--allow':
      return names().map((n) => `${n}=`);
    default:
      return [];
  }
}

/** Operands of the commands that take names rpr knows. */
function operandValues(path: string[], data: CompletionData): string[] {
  const [first, second] = path;
  if (first === 'run') return data.jobs;
  if (first === 'completion') return [...SHELLS];
  if (first === 'plugins' && second !== undefined && ['info', 'update', 'remove', 'uninstall', 'disable', 'enable'].includes(second)) {
    return [...data.plugins.map((p) => p.name), ...(second === 'enable' ? data.disabled : [])];
  }
  return [];
}

/**
 * The words that can follow `rpr WORDS...`, the last of WORDS being the one being typed (maybe
 * empty), for `rpr __complete`: subcommands (plugin schedulers included), a command's flags, a flag's
 * choices, plugin and job names. Nothing for a file (--config, install, check) or after --: the
 * shell's own file completion takes over.
 */
export function completions(program: Command, words: readonly string[], data: CompletionData): string[] {
  const cur = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.includes('--')) return [];
  let cmd = program;
  const path: string[] = [];
  /** The flag whose value is being typed. */
  let pending: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word.startsWith('-')) {
      const flag = word.split('=')[0]!;
      if (!word.includes('=') && needsValue(optionOf(cmd, flag), flag)) {
        if (i + 1 < before.length) i++;
        else pending = flag;
      }
      continue;
    }
    // The Go rpr's `rpr plugin NAME`: NAME is the subcommand.
    if (cmd === program && word === 'plugin') continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      cmd = sub;
      path.push(sub.name());
    } else path.push(word);
  }
  let found: string[];
  if (pending !== undefined) {
    const option = optionOf(cmd, pending);
    found = option?.argChoices ?? pluginValues(option?.long ?? pending, cur, data);
  } else if (cur.startsWith('-')) {
    found = [...cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)), '--help'];
  } else if (visible(cmd).length > 0) {
    found = visible(cmd).map((c) => c.name());
  } else {
    found = operandValues(path, data);
  }
  return [...new Set(found)].filter((word) => word.startsWith(cur));
}

/** The script a shell sources; it asks `rpr __complete WORDS...` for every completion. */
export function completionScript(shell: (typeof SHELLS)[number]): string {
  switch (shell) {
    case 'bash':
      return [
        '# rpr completion for bash: source it, e.g. from ~/.bashrc:',
        '#   source <(rpr completion bash)',
        '_rpr() {',
        "  local IFS=$'\\n'",
        '  COMPREPLY=($(rpr __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))',
        '}',
        '# -o default: file names where rpr offers nothing (--config FILE, the command after --).',
        'complete -o default -F _rpr rpr',
        '',
      ].join('\n');
    case 'zsh':
      return [
        '#compdef rpr',
        '# rpr completion for zsh: source <(rpr completion zsh), or save it as _rpr in your $fpath',
        '_rpr() {',
        '  local -a found',
        '  found=("${(@f)$(rpr __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")',
        '  found=(${found:#})',
        '  if (( ${#found} )); then compadd -a found; else _files; fi',
        '}',
        'compdef _rpr rpr',
        '',
      ].join('\n');
    case 'fish':
      return [
        '# rpr completion for fish: rpr completion fish > ~/.config/fish/completions/rpr.fish',
        'function __rpr_complete',
        '    set -l words (commandline -opc) (commandline -ct)',
        '    rpr __complete $words[2..-1] 2>/dev/null',
        'end',
        "complete -c rpr -f -a '(__rpr_complete)'",
        '',
      ].join('\n');
  }
}
