// Turns the oracle's answers (JSON lines, one per case) into the committed golden files, each a header
// line then one line per case group:
//  - render: {"t": template, "c": [[result, output, priority], …]}: output is OKG's RenderTemplate (a
//    string, {"hex": …} when not UTF-8, 0 when it is the template's own text, null where Go panicked);
//    priority is ParseIntOrStringFromTemplate's int32, or null where it fails;
//  - sync: {"chain": {qualities, gameServer, steps}, "steps": [what syncServiceQualities left, per step]}.
//   node dist/test/okg-oracle/write-goldens.js CASES.jsonl ANSWERS.jsonl --seed N --render OUT.jsonl --sync OUT.jsonl
// (answers are in the order of the cases; a chain is kept as generated, not as Go re-encodes it)
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface RenderAnswer {
  t: string;
  r: string;
  out: unknown;
  prio: number | null;
  panic?: boolean;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string' }, render: { type: 'string' }, sync: { type: 'string' } },
});
const jsonLines = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
const cases = jsonLines(positionals[0]!);
const answers = jsonLines(positionals[1]!);
if (cases.length !== answers.length) throw new Error(`${cases.length} cases but ${answers.length} answers`);
/** A step as the test reads it: the conditions, the GameServer's fields, the Warning reasons. */
function compactStep(step: Record<string, unknown>): Record<string, unknown> {
  const events = (step['events'] as string[]).map((e) => e.split(' ')[1]);
  return { ...step, events };
}

const byTemplate = new Map<string, unknown[][]>();
const chains: string[] = [];
let pairs = 0;
answers.forEach((a, i) => {
  if ('chain' in a) {
    chains.push(JSON.stringify({ chain: cases[i]!['chain'], steps: (a['steps'] as Record<string, unknown>[]).map(compactStep) }));
    return;
  }
  const r = a as unknown as RenderAnswer;
  const list = byTemplate.get(r.t) ?? [];
  list.push([r.r, r.panic ? null : r.out === r.t ? 0 : r.out, r.prio]);
  byTemplate.set(r.t, list);
  pairs++;
});
const header = (extra: Record<string, number>): string =>
  JSON.stringify({
    kruiseGame: process.env['KRUISE_GAME_VERSION'],
    go: process.env['KRUISE_GAME_GO_VERSION'],
    seed: Number(values.seed),
    ...extra,
    regenerate: 'test/okg-oracle/regenerate.sh',
  });
const render = [header({ templates: byTemplate.size, pairs }), ...[...byTemplate].map(([t, c]) => JSON.stringify({ t, c }))];
writeFileSync(values.render!, render.join('\n') + '\n');
writeFileSync(values.sync!, [header({ chains: chains.length }), ...chains].join('\n') + '\n');
