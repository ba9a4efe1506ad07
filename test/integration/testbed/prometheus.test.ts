// The bed's Prometheus scrapes a real target and answers queries with its samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPrometheus } from '../../testbed/prometheus.js';
import { waitFor } from '../../testbed/wait-for.js';

test('Prometheus scrapes a target and query() returns its samples', async () => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('# TYPE okgsq_testbed_smoke_total counter\nokgsq_testbed_smoke_total{quality="healthy"} 42\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prometheus = await startPrometheus({ targets: [target], scrapeIntervalSeconds: 1 });
  try {
    await prometheus.waitForTargetsUp(20_000);
    const samples = await waitFor(async () => {
      const result = await prometheus.query('okgsq_testbed_smoke_total');
      return result.length > 0 ? result : undefined;
    }, { timeoutMs: 20_000, what: 'the scraped sample' });
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.value, 42);
    assert.equal(samples[0]!.metric.quality, 'healthy');
    assert.equal(samples[0]!.metric.instance, target);
    assert.deepEqual(await prometheus.query('okgsq_no_such_metric'), []);
  } finally {
    await prometheus.stop();
    server.close();
  }
});
