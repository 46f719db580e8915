/**
 * What `rpr up` uses of app/ and run/ to run a job: given by the caller (the CLI loads it as every
 * job subcommand does, one chunk of the bundle) rather than imported, so that the bundle keeps
 * app/'s modules in the one chunk a plain job loads (docs/ARCHITECTURE.md, "Build and loading").
 */
import type { configJobRequest } from '../app/config-job.js';
import type { resolveJob } from '../app/resolve-job.js';
import type { runJob } from '../app/run-job.js';
import type { reapLeftovers } from '../run/reap.js';
import type { resolveCommand } from '../run/resolve-command.js';

export interface JobModules {
  configJobRequest: typeof configJobRequest;
  resolveJob: typeof resolveJob;
  runJob: typeof runJob;
  resolveCommand: typeof resolveCommand;
  reapLeftovers: typeof reapLeftovers;
}
