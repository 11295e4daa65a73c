import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult } from './lib/result.js';
import { confirmLatency } from './scenarios/confirm-latency.js';
import { localApply } from './scenarios/local-apply.js';
import { partialReplica } from './scenarios/partial-replica.js';
import { wireBytes } from './scenarios/wire-bytes.js';

// `npm run bench -- --quick` and `pnpm bench --quick` pass through different
// numbers of `--` separators; they carry no meaning here.
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const { values } = parseArgs({
  args,
  options: {
    quick: { type: 'boolean', default: false },
    // `--only partial` runs the scenarios whose label contains "partial".
    only: { type: 'string' },
  },
});
const n = values.quick ? 100 : 500;

const scenarios: Array<[string, () => Promise<BenchResult[]>]> = [
  ['local apply', () => localApply(n)],
  ['confirm latency', () => confirmLatency(n)],
  ['wire bytes', () => wireBytes(Math.max(50, n / 5))],
  [
    'partial replicas',
    () =>
      partialReplica({
        // --quick scales the large document down to 20 MB; the targets are for the full run.
        bigRows: values.quick ? 100_000 : 1_000_000,
        smallRows: 50_000,
        samples: values.quick ? 3 : 9,
        pointQueries: 1000,
        log: (line) => process.stdout.write(`bench:   ${line}\n`),
      }),
  ],
];

const results: BenchResult[] = [];
const chosen = scenarios.filter(([label]) => !values.only || label.includes(values.only));
if (chosen.length === 0) {
  process.stderr.write(`bench: no scenario matches --only ${values.only}; scenarios: ${scenarios.map(([label]) => label).join(', ')}\n`);
  process.exit(2);
}
for (const [label, run] of chosen) {
  process.stdout.write(`bench: ${label}…\n`);
  results.push(...(await run()));
}

const table = results.map((r) => ({
  name: r.name,
  value: `${r.value} ${r.unit}`,
  baseline: r.baseline === null ? '' : `${r.baseline} ${r.unit}`,
  ratio: r.ratio ?? '',
}));
console.table(table);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`bench: wrote ${out}\n`);
