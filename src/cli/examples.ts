/** Real, runnable examples for each subcommand's --help. */
const EXAMPLES: Record<string, string[]> = {
  interval: [
    'rpr interval --every 30s --times 10 -- curl -fsS https://example.com/health',
    'rpr i -e 1m --timeout 20s --on-overlap kill -- ./sync.sh',
    'rpr interval -e 5s --until-success -- pg_isready -h db',
  ],
  count: [
    'rpr count --times 3 --every 1s -- date',
    'rpr c -t 100 --summary -- ./flaky-test.sh',
    // Single quotes: each run's shell draws its own $RANDOM (in double quotes yours would, once).
    "rpr count -t 5 --json -- sh -c 'exit $((RANDOM % 2))'",
  ],
  duration: ['rpr duration --for 10m --every 15s -- kubectl get pods', 'rpr d -f 1h -e 1m --until-match Running -- kubectl get pod web'],
  cron: ["rpr cron --cron '*/5 * * * *' -- ./backup.sh", "rpr cron --cron '0 9 * * MON-FRI' --tz Europe/Berlin -- ./report.sh", "rpr cron --cron '0 */6 * * *' --next 5"],
};

/** Examples for the bundled scheduler plugins' subcommands; any other plugin gets one made from its schema. */
const PLUGIN_EXAMPLES: Record<string, string[]> = {
  adaptive: ['rpr adaptive --base-interval 10s --show-metrics -- ./probe.sh', 'rpr adaptive --base-interval 5s --max-interval 5m --times 100 -- curl -fsS http://127.0.0.1:8080/'],
  chaos: ['rpr chaos --mean 10m --window 09:00-17:00 --seed 42 -- ./kill-a-pod.sh', 'rpr chaos --every 1h --probability 0.3 -- ./failover-test.sh'],
  'decorrelated-jitter': ['rpr decorrelated-jitter --initial 200ms --max 30s --attempts 8 -- ./deploy.sh'],
  exponential: ['rpr exponential --initial 500ms --max 30s --attempts 5 -- ./deploy.sh', 'rpr exponential --initial 1s --jitter full -- curl -fsS http://127.0.0.1:8080/'],
  fibonacci: ['rpr fibonacci --initial 1s --max 5m --attempts 8 -- ./deploy.sh'],
  linear: ['rpr linear --increment 2s --max 1m --attempts 10 -- pg_isready -h localhost'],
  'load-adaptive': ['rpr load-adaptive --base-interval 30s --target-cpu 70 -- ./batch-step.sh'],
  polynomial: ['rpr polynomial --initial 1s --exponent 2 --attempts 6 -- ./deploy.sh'],
  predictive: ['rpr predictive --every 1h --show-metrics -- ./backup.sh'],
  'rate-limit': ['rpr rate-limit --rate 100/1h --times 500 -- ./call-api.sh', 'rpr rate-limit --rate 10/1m --retry-pattern 0,10m -- ./call-api.sh'],
  'token-bucket': ['rpr token-bucket --rate 10/1m --burst 5 --times 50 -- ./call-api.sh'],
};

/** A plugin's setting as --help lists it: enough of a manifest to write an example. */
interface ExampleSchema {
  name: string;
  config: Record<string, { type: string; required?: boolean; default?: unknown }>;
}

export function pluginExamplesHelp(manifest: ExampleSchema): string {
  const given = PLUGIN_EXAMPLES[manifest.name];
  if (given) return `\nExamples:\n${given.map((l) => `  $ ${l}`).join('\n')}\n`;
  // A plugin of the user's: its required settings, each with a value of its type.
  const sample: Record<string, string> = { duration: '1s', integer: '3', number: '1.5', boolean: '', string: 'VALUE' };
  const flags = Object.entries(manifest.config)
    .filter(([, field]) => field.required && field.default === undefined)
    .map(([key, field]) => `--${key.replaceAll('_', '-')}${sample[field.type] ? ` ${sample[field.type]}` : ''}`);
  return `\nExample:\n  $ ${['rpr', manifest.name, ...flags, '--times 3', '--', './check.sh'].join(' ')}\n`;
}

export function examplesHelp(command: string): string {
  const lines = EXAMPLES[command];
  return lines ? `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n` : '';
}

/** `rpr examples`: a short tour of the common jobs, each runnable as printed. */
/** @public scripts/man.mjs reads it from dist/ for the man page's EXAMPLES. */
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
