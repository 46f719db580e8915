/**
 * The exec permission. The host never spawns anything itself: an executor plugin answers a plan
 * and rpr's runner spawns it, but only after this check. Matching is exact on argv[0]: "docker"
 * allows "docker" looked up on rpr's own PATH (the runner resolves it before the plan's
 * environment applies, and runs it by absolute path), not "/tmp/evil/docker"; an absolute path
 * allows only itself.
 *
 * The plan's environment could otherwise choose what actually runs: PATH picks another `docker`,
 * LD_PRELOAD loads a library into it, BASH_ENV runs a script in any bash it starts (measured: with
 * exec = ["echo"], PATH=<a folder the plugin chose> ran a script named echo). Those variables are
 * refused unless the manifest lists them in exec_env (and the user agreed to it).
 */
import { denied, PluginError } from '../errors.js';
import type { ExecutionPlan } from '../messages.js';
import type { Permissions } from '../manifest/types.js';

/** Variables that change which program runs, what it loads, or what a shell or interpreter executes. */
const GUARDED = new Set([
  'PATH',
  'IFS',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RESOLV_HOST_CONF',
  'GLIBC_TUNABLES',
  'TZDIR',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYLIB',
  'RUBYOPT',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GIT_EXEC_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_CONFIG_GLOBAL',
  'SSH_ASKPASS',
  'LESSOPEN',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'DOCKER_CONFIG',
  'DOCKER_HOST',
  'SSH_AUTH_SOCK',
]);
const GUARDED_PREFIXES = ['LD_', 'DYLD_', 'MALLOC_', 'BASH_FUNC_'];

export const guardedVariable = (name: string): boolean => GUARDED.has(name) || GUARDED_PREFIXES.some((p) => name.startsWith(p));

/** Names as execve takes them: no "=" and no NUL (a NUL cut a variable short and hung the runner). */
const VARIABLE_NAME = /^[^=\0]+$/;

const malformed = (plugin: string, detail: string): PluginError => new PluginError(plugin, 'plan', 'malformed', detail);

export function checkPlan(plugin: string, plan: ExecutionPlan, permissions: Pick<Permissions, 'exec' | 'execEnv'>): ExecutionPlan {
  const { exec, execEnv } = permissions;
  if (plan.argv.some((arg) => arg.includes('\0'))) throw malformed(plugin, "the plan's argv holds a NUL byte");
  if (plan.cwd.includes('\0')) throw malformed(plugin, "the plan's cwd holds a NUL byte");
  for (const [name, value] of Object.entries(plan.env)) {
    if (!VARIABLE_NAME.test(name)) throw malformed(plugin, `the plan's environment has a bad variable name ${JSON.stringify(name.slice(0, 60))}`);
    if (value.includes('\0')) throw malformed(plugin, `the plan's variable ${name} holds a NUL byte`);
  }
  const program = plan.argv[0]!;
  if (!exec.includes(program)) {
    throw denied(
      plugin,
      'plan',
      `exec of "${program}" denied: the plugin may run ${exec.length ? exec.map((p) => `"${p}"`).join(', ') : 'no programs'}`,
      `grant it with exec = ["${program}"] in [plugins.${plugin}.permissions] if you trust the plugin`,
      { key: 'exec', value: program },
    );
  }
  const refused = Object.keys(plan.env).filter((name) => guardedVariable(name) && !execEnv.includes(name));
  if (refused.length > 0) {
    throw denied(
      plugin,
      'plan',
      `setting ${refused.join(', ')} for "${program}" denied: ${refused.length > 1 ? 'these change' : 'it changes'} what gets run or loaded`,
      `grant it with exec_env = [${refused.map((n) => `"${n}"`).join(', ')}] in [plugins.${plugin}.permissions] if you trust the plugin`,
      { key: 'exec_env', value: refused[0]! },
    );
  }
  return plan;
}
