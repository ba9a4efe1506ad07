// Template rendering on the decider's hot path: renders per second of the templates users write (plain
// {{.Result}}, an if/else-if chain, a numeric comparison, a priority), each over a rotating set of probe
// results, templates parsed once (the cache) as in the decider. One process, no test bed. Renders per
// second of this process's CPU time (process.cpuUsage), best of several rounds: on a shared machine wall
// time measures the neighbours.
//   node dist/bench/template-render.js [--seconds 2] [--rounds 5]
import { parseArgs } from 'node:util';
import { parsePriorityTemplate, renderTemplate } from '../rules/template.js';
import { report, round, type Row } from './bench-kit.js';

const CASES: readonly { name: string; template: string; priority?: boolean }[] = [
  { name: 'result', template: '{{.Result}}' },
  { name: 'if-chain', template: '{{if eq .Result "idle"}}WaitToBeDeleted{{else if eq .Result "busy"}}Allocated{{else}}None{{end}}' },
  { name: 'numeric', template: '{{if lt .Result "10"}}low{{else}}high{{end}}' },
  { name: 'priority', template: '{{.Result}}', priority: true },
  { name: 'plain-text', template: 'Maintaining' },
];
const RESULTS = ['idle', 'busy', '7', '42', 'other', ''];

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const figures: Record<string, number> = {};
const rows: Row[] = [];
let sink = 0;
for (const c of CASES) {
  const render = c.priority ? (r: string) => (parsePriorityTemplate(c.template, r).ok ? 1 : 0) : (r: string) => renderTemplate(c.template, r).length;
  for (let i = 0; i < 20_000; i++) sink += render(RESULTS[i % RESULTS.length]!); // warm up
  let perSecond = 0;
  for (let round = 0; round < rounds; round++) {
    let n = 0;
    const cpu = process.cpuUsage();
    const deadline = performance.now() + (seconds * 1000) / rounds;
    while (performance.now() < deadline) {
      for (let i = 0; i < 1000; i++) sink += render(RESULTS[(n + i) % RESULTS.length]!);
      n += 1000;
    }
    const used = process.cpuUsage(cpu);
    perSecond = Math.max(perSecond, n / ((used.user + used.system) / 1e6));
  }
  figures[`${c.name}_renders_per_second`] = round(perSecond, 0);
  rows.push({ goal: `${c.name}: ${c.template.slice(0, 40)}`, measured: `${round(perSecond / 1e6, 2)} M renders/CPU-s`, target: 'n/a', met: 'n/a' });
}
if (sink === -1) process.stderr.write('unreachable\n');
report('template-render', figures, rows);
