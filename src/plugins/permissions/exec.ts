/**
 * The exec permission. The host never spawns anything itself: an executor plugin answers a plan
 * and rpr's runner spawns it, but only after this check. Matching is exact on argv[0]: "docker"
 * allows "docker" looked up on PATH, not "/tmp/evil/docker"; an absolute path allows only itself.
 */
import { denied } from '../errors.js';
import type { ExecutionPlan } from '../messages.js';

export function checkPlan(plugin: string, plan: ExecutionPlan, exec: readonly string[]): ExecutionPlan {
  const program = plan.argv[0]!;
  if (!exec.includes(program)) {
    throw denied(
      plugin,
      'plan',
      `exec of "${program}" denied: the plugin may run ${exec.length ? exec.map((p) => `"${p}"`).join(', ') : 'no programs'}`,
      `grant it with exec = ["${program}"] in [plugins.${plugin}.permissions] if you trust the plugin`,
    );
  }
  return plan;
}
