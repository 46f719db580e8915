/**
 * What running a job needs, in one module: the actions that run a job import it when they run
 * (--help and usage errors found by commander never load it), and one dynamic import is one
 * chunk of the bundle (scripts/bundle.mjs) rather than three.
 */
export { configJob, configJobRequest, withConfigLocation } from '../app/config-job.js';
export { resolveJob } from '../app/resolve-job.js';
export { reapLeftovers } from '../run/reap.js';
export { resolveCommand } from '../run/resolve-command.js';
export { runJob, runRequest } from '../app/run-job.js';
export { loadInvocationConfig, resolveInvocation } from './resolve-values.js';
