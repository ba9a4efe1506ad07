// examples/http on a real cluster: the game answers its own opsState over HTTP and the response body
// becomes the GameServer's opsState (`opsState: "{{.Result}}"`). The agent pod probes the game pod's IP
// on the container's named port; the decider pod writes. The example's serviceQualities are applied
// unchanged; busybox httpd plays the game's status server (its file is the answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterBed, exampleSet, qualityCondition } from './cluster-kit.js';
import { createNamespace } from '../testbed/kube.js';
import { TEST_IMAGES } from '../testbed/images.js';

/** The example's status port (named `status`) and path: httpd serves /www, the file is the body. */
const SERVE = 'mkdir -p /www; printf None >/www/opsstate; httpd -p 18080 -h /www; exec sleep 2147483647';

test('examples/http: the http probe\'s body becomes the opsState; with the server down the last opsState stands', async () => {
  const bed = new ClusterBed();
  try {
    const set = exampleSet('http');
    const quality = set.spec.serviceQualities[0].name as string;
    const container = set.spec.gameServerTemplate.spec.containers[0]!;
    assert.equal(set.spec.serviceQualities[0].serviceQualityAction[0].opsState, '{{.Result}}', 'the example sets the body as the opsState');
    const namespace = await createNamespace('ct-http', bed.kc);
    const [name] = await bed.createGameServers(namespace, set, {
      containers: [{ name: container.name, image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', ports: container.ports, command: ['sh', '-c', SERVE] }],
    });
    const body = (text: string): Promise<void> => bed.shell(namespace, name!, container.name, `printf '%s' '${text}' >/www/opsstate`);

    await bed.waitForGameServer(namespace, name!, 'the first outcome: 200 "None"', (gs) => qualityCondition(gs, quality)?.result === 'None' && qualityCondition(gs, quality)?.status === 'True');
    const history = await bed.watchOpsStates(namespace, name!);
    try {
      await body('Allocated');
      await bed.waitForOpsState(namespace, name!, 'Allocated');
      await body('WaitToBeDeleted');
      await bed.waitForOpsState(namespace, name!, 'WaitToBeDeleted');

      // The server goes down: connection refused, state false after failureThreshold; no action matches.
      await bed.shell(namespace, name!, container.name, 'killall httpd');
      const down = await bed.waitForGameServer(namespace, name!, 'the probe failing', (gs) => qualityCondition(gs, quality)?.status === 'False');
      assert.equal(down.spec.opsState, 'WaitToBeDeleted', 'the last opsState stands');
      assert.deepEqual(history.values, ['Allocated', 'WaitToBeDeleted'], 'one opsState write per body change, none when the server went down');
    } finally {
      history.stop();
    }
  } finally {
    bed.close();
  }
});
