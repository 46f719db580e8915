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

/** `rpr examples`: a short tour of the common jobs, each runnable as printed. */
export const TOUR: [string, string][] = [
  ['Run a command 3 times, one second apart', 'rpr count --times 3 --every 1s -- date'],
  ['Check a health endpoint every 30 s, 10 times', 'rpr interval --every 30s --times 10 -- curl -fsS http://127.0.0.1:8080/health'],
  ['Wait for a service to come up (stops at the first success)', 'rpr interval --every 2s --for 2m --until-success -- pg_isready -h localhost'],
  ['Retry with exponential backoff, at most 5 attempts', 'rpr exponential --initial 500ms --max 30s --attempts 5 -- ./deploy.sh'],
  ['Stay under an API rate limit of 100 calls per hour', 'rpr rate-limit --rate 100/1h --times 500 -- ./call-api.sh'],
  ['Honour Retry-After from the server', 'rpr interval --every 10s --http-aware -- curl -si https://api.example.com/jobs'],
  ['Run at 09:00 on weekdays in Berlin', "rpr cron --cron '0 9 * * MON-FRI' --tz Europe/Berlin -- ./report.sh"],
  ['Preview the next 5 fire times of an expression', "rpr cron --cron '0 */6 * * *' --next 5"],
  ['Run a flaky test 100 times and summarise', 'rpr count --times 100 --summary --quiet -- npm test'],
  ['Stop when the output changes', 'rpr interval --every 5s --until-changes -- cat /etc/resolv.conf'],
  ['Machine-readable results, one JSON object per run', 'rpr count --times 5 --json -- ./probe.sh'],
  ['Kill a run that hangs; never overlap runs', 'rpr interval --every 1m --timeout 50s --on-overlap skip -- ./sync.sh'],
  ['Expose health and Prometheus metrics while running', 'rpr interval --every 15s --health-port 8081 --metrics-port 9091 -- ./check.sh'],
  ['A job kept in the config file', 'rpr --config ./rpr.toml run nightly-backup'],
];

export function formatTour(): string {
  return TOUR.map(([what, command]) => `# ${what}\n${command}\n`).join('\n');
}
