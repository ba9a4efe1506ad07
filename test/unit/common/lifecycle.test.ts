// The composition roots' service list: started in order, stopped in reverse, every service stopped even
// when one fails to, and a second stop() is the first one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ServiceList, type Service } from '../../../common/lifecycle.js';

function recording(name: string, log: string[], failStop = false): Service {
  return {
    start: () => void log.push(`start ${name}`),
    stop: async () => {
      log.push(`stop ${name}`);
      if (failStop) throw new Error(`${name} refused to stop`);
    },
  };
}

test('services start in list order and stop in reverse; a failing stop does not keep the rest running', async () => {
  const log: string[] = [];
  const list = new ServiceList(
    [
      { name: 'cache', service: recording('cache', log) },
      { name: 'server', service: { stop: async () => void log.push('stop server') } },
      { name: 'batcher', service: recording('batcher', log, true) },
      { name: 'prober', service: recording('prober', log) },
    ],
    pino({ level: 'silent' }),
  );
  list.start();
  list.start();
  assert.deepEqual(log, ['start cache', 'start batcher', 'start prober']);
  log.length = 0;
  const first = list.stop();
  assert.equal(list.stop(), first, 'a second stop() is the first one');
  await first;
  assert.deepEqual(log, ['stop prober', 'stop batcher', 'stop server', 'stop cache']);
});
