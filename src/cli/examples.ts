/** Real, runnable examples for each subcommand's --help. */
export const EXAMPLES: Record<string, string[]> = {
  interval: [
    'rpr interval --every 30s --times 10 -- curl -fsS https://example.com/health',
    'rpr i -e 1m --timeout 20s --on-overlap kill -- ./sync.sh',
    'rpr interval -e 5s --until-success -- pg_isready -h db',
  ],
  count: [
    'rpr count --times 3 --every 1s -- date',
    'rpr c -t 100 --summary -- ./flaky-test.sh',
    'rpr count -t 5 --json -- sh -c "exit $((RANDOM % 2))"',
  ],
  duration: [
    'rpr duration --for 10m --every 15s -- kubectl get pods',
    'rpr d -f 1h -e 1m --until-match Running -- kubectl get pod web',
  ],
  cron: [
    "rpr cron --cron '*/5 * * * *' -- ./backup.sh",
    "rpr cron --cron '0 9 * * MON-FRI' --tz Europe/Berlin -- ./report.sh",
    "rpr cron --cron '0 */6 * * *' --next 5",
  ],
};

export function examplesHelp(command: string): string {
  const lines = EXAMPLES[command];
  return lines ? `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n` : '';
}
