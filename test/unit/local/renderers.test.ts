import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, MAX_QUALITY_CELL_CHARS, qualityCell } from '../../../cli/local/format-table.js';
import { JsonRenderer } from '../../../cli/local/json-renderer.js';
import { MemoryStore, newGameServer, type LocalGameServer } from '../../../cli/local/memory-store.js';
import type { LocalView } from '../../../cli/local/renderer.js';
import { TableRenderer } from '../../../cli/local/table-renderer.js';

function fixture(): { store: MemoryStore; view: LocalView } {
  const store = new MemoryStore();
  for (let i = 0; i < 3; i++) store.create(newGameServer('minecraft', i, `gs-${i}`), { uid: `pod-${i}` });
  const gs = store.get('minecraft-0')!;
  store.update({
    ...gs,
    spec: { ...gs.spec, opsState: 'GateMaintaining', deletionPriority: 5 },
    status: { ...gs.status, serviceQualitiesConditions: [{ name: 'healthy', status: 'True', result: 'gate' }] },
  });
  const gs1 = store.get('minecraft-1')!;
  store.update({ ...gs1, status: { ...gs1.status, serviceQualitiesConditions: [{ name: 'healthy', status: 'False', result: '' }] } });
  store.setPodConditions('minecraft-1', [], { healthy: 'timeout' });
  return { store, view: { get gameServers() { return store.list(); }, pod: (n) => store.pod(n) } };
}

class Sink {
  text = '';
  constructor(readonly isTTY = false, readonly columns?: number, readonly rows?: number) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

test('the table has kubectl get gs columns plus one state/result column per quality', () => {
  const { view } = fixture();
  const lines = formatTable(view.gameServers, view.pod, ['healthy']);
  assert.deepEqual(lines, [
    'NAME          STATE   OPSSTATE          DP   UP   NET-DISABLED   HEALTHY',
    'minecraft-0   Ready   GateMaintaining   5    0    false          true/gate',
    'minecraft-1   Ready   None              0    0    false          false(timeout)',
    'minecraft-2   Ready   None              0    0    false          -',
  ]);
});

test('long or hostile results are cut and never reach the terminal as control codes', () => {
  const gs = {
    ...newGameServer('s', 0, 'u'),
    status: { serviceQualitiesConditions: [{ name: 'q', status: 'True', result: `\u001b[2J${'x'.repeat(100)}` }] },
  } as LocalGameServer;
  const cell = qualityCell(gs, undefined, 'q');
  assert.equal([...cell].length, MAX_QUALITY_CELL_CHARS);
  assert.ok(!cell.includes('\u001b'), cell);
  assert.ok(cell.endsWith('…'));
});

test('json: one line per change, then one final line, each GameServer in Kubernetes shape', () => {
  const { store, view } = fixture();
  const out = new Sink();
  const notes = new Sink();
  const renderer = new JsonRenderer(out, notes);
  renderer.changed(store.get('minecraft-0')!);
  renderer.note('cannot run ./probe.sh');
  assert.equal(notes.text, 'okg-sq local: cannot run ./probe.sh\n', 'notes go to stderr, stdout stays JSON');
  renderer.final(view);
  renderer.changed(store.get('minecraft-1')!);
  const lines = out.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2, 'nothing after final');
  assert.equal(lines[0].event, 'update');
  assert.equal(lines[0].gameServer.kind, 'GameServer');
  assert.equal(lines[0].gameServer.spec.opsState, 'GateMaintaining');
  assert.deepEqual(lines[0].gameServer.status.serviceQualitiesConditions, [{ name: 'healthy', status: 'True', result: 'gate' }]);
  assert.equal(lines[1].event, 'final');
  assert.deepEqual(lines[1].gameServers.map((g: LocalGameServer) => g.metadata.name), ['minecraft-0', 'minecraft-1', 'minecraft-2']);
});

test('table, not a terminal: a burst of changes prints one timestamped table, without escape codes', () => {
  const { store, view } = fixture();
  const out = new Sink(false);
  const deferred: (() => void)[] = [];
  const renderer = new TableRenderer({
    out,
    qualities: ['healthy'],
    now: () => new Date('2026-11-25T20:00:00.123Z'),
    defer: (fn) => (deferred.push(fn), { cancel: () => deferred.splice(deferred.indexOf(fn), 1) }),
  });
  renderer.changed(store.get('minecraft-0')!, view);
  renderer.changed(store.get('minecraft-1')!, view);
  assert.equal(deferred.length, 1, 'coalesced');
  assert.equal(out.text, '');
  deferred.shift()!();
  assert.match(out.text, /^--- 2026-11-25T20:00:00Z\nNAME {2,}STATE/);
  assert.equal(out.text.split('\n').filter((l) => l.startsWith('minecraft-')).length, 3);
  assert.ok(!out.text.includes('\u001b'));
  renderer.final(view);
  assert.equal(out.text.split('--- ').length - 1, 2, 'final prints the end state once more');
});

test('table on a terminal: redraws in place, lines cut to the terminal width', () => {
  const { store, view } = fixture();
  const out = new Sink(true, 40);
  const renderer = new TableRenderer({
    out,
    qualities: ['healthy'],
    now: () => new Date(2026, 10, 25, 21, 5, 9),
    defer: (fn) => (fn(), { cancel() {} }),
  });
  renderer.changed(store.get('minecraft-0')!, view);
  assert.ok(!out.text.includes('\u001b'), 'first draw: nothing to erase');
  const first = out.text;
  assert.ok(first.split('\n').every((l) => [...l].length <= 40));
  assert.ok(first.endsWith('\nupdated 21:05:09\n'), 'a live footer with the local time');
  renderer.changed(store.get('minecraft-1')!, view);
  assert.ok(out.text.slice(first.length).startsWith('\u001b[5F\u001b[0J'), 'moves up over the 5 lines drawn before');
});

test('table notes: under the table on a terminal (latest few), a plain note line otherwise', () => {
  const { store, view } = fixture();
  const tty = new Sink(true, 200);
  const renderer = new TableRenderer({
    out: tty,
    qualities: ['healthy'],
    now: () => new Date(2026, 10, 25, 21, 5, 9),
    defer: (fn) => (fn(), { cancel() {} }),
  });
  renderer.changed(store.get('minecraft-0')!, view);
  for (let i = 1; i <= 7; i++) renderer.note(`cannot run ./probe${i}.sh\u001b[2J`);
  const lastDraw = tty.text.slice(tty.text.lastIndexOf('\u001b[0J') + '\u001b[0J'.length);
  const noteLines = lastDraw.split('\n').filter((l) => l.startsWith('21:05:09 cannot run'));
  assert.deepEqual(noteLines.map((l) => l.slice('21:05:09 cannot run ./'.length, '21:05:09 cannot run ./probeN'.length)), ['probe3', 'probe4', 'probe5', 'probe6', 'probe7']);
  assert.ok(!lastDraw.includes('\u001b[2J'), 'control codes from messages never reach the terminal');

  const plain = new Sink(false);
  new TableRenderer({ out: plain, qualities: ['healthy'] }).note('cannot run ./probe.sh');
  assert.equal(plain.text, 'note: cannot run ./probe.sh\n');
});

test('table on a short terminal: cut to fit the screen, saying how many rows are hidden', () => {
  const store = new MemoryStore();
  for (let i = 0; i < 30; i++) store.create(newGameServer('big', i, `gs-${i}`), { uid: `pod-${i}` });
  const view: LocalView = { get gameServers() { return store.list(); }, pod: (n) => store.pod(n) };
  const out = new Sink(true, 120, 10);
  const renderer = new TableRenderer({ out, qualities: ['q'], defer: (fn) => (fn(), { cancel() {} }) });
  renderer.changed(store.get('big-0')!, view);
  const lines = out.text.trimEnd().split('\n');
  assert.ok(lines.length < 10, `${lines.length} lines on a 10-row screen`);
  assert.match(out.text, /^… 2\d more \(--output json shows all\)$/m);
  renderer.changed(store.get('big-1')!, view);
  assert.ok(out.text.slice(lines.join('\n').length + 1).startsWith(`\u001b[${lines.length}F`));
});
