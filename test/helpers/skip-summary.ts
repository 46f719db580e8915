/**
 * A vitest reporter that ends the run with one line: how many tests were skipped, and every reason
 * the suite gave. Tests that skip say why as `SKIP <what>: <why>` on the console (the standard:
 * a skip must print why); this gathers them, so a machine missing sshd or promtool is seen at the
 * end of the run, not in the middle of its output.
 */
import type { Reporter, TestModule, UserConsoleLog } from 'vitest/node';

export default class SkipSummary implements Reporter {
  private readonly reasons = new Set<string>();

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      const reason = /^SKIP (.+)$/.exec(line.trim())?.[1];
      if (reason) this.reasons.add(reason);
    }
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let skipped = 0;
    for (const module of modules) for (const _ of module.children.allTests('skipped')) skipped++;
    const why = this.reasons.size ? `: ${[...this.reasons].sort().join('; ')}` : skipped ? ' (no reason printed)' : '';
    process.stdout.write(`\nskipped: ${skipped} test${skipped === 1 ? '' : 's'}${why}\n`);
  }
}
