// An agent identity that has ended must lose its authority at once, against the running decider with
// real TokenRequest tokens and real TokenReviews: the open stream of a deleted agent pod is ended (it
// drove GameServers indefinitely before), its token is refused from then on even while its review is
// cached, and a stream whose token expires is ended at the expiry; the real agent process then comes back
// with the fresh token it re-reads from its projected token file.
// Expiry: TokenRequest's minimum lifetime is 600 s, so the expiring token is the real agent token's own
// claims re-signed by the bed's service-account key with an `exp` seconds away (bad-kit.ts `resigned`):
// the apiserver's TokenReview accepts it exactly as it accepts the original, until that `exp`.
// Lower-level proofs: test/unit/decider/ingest/token-authenticator.test.ts, agent-admission.test.ts,
// test/integration/ingest/token-review.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { testbedEnv } from '../testbed/env.js';
import { freePort } from '../testbed/free-port.js';
import { waitFor } from '../testbed/wait-for.js';
import { TestAgent } from '../unit/decider/ingest/ingest-kit.js';
import { agentToken, must, resigned, startAgent, type Program } from './bad-kit.js';
import { metricSum, outcome, WireBed, type Room } from './wire-kit.js';

const EXPIRES_IN_SECONDS = 8;
/** The decider re-checks open sessions every second. */
const END_BOUND_MS = 3_000;

describe('an agent identity ends with its pod and with its token', () => {
  const bed = new WireBed();
  let room: Room;
  let agent: Program | undefined;

  before(async () => {
    await bed.start('bad-identity', [
      { name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] }, serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }] },
    ]);
    room = await bed.room('room-0');
  });
  after(async () => {
    await agent?.stop();
    await bed.stop();
  });

  const agentPodPath = (): string => `/api/v1/namespaces/${bed.ns}/pods/okg-sq-agent-${bed.node}`;

  it("ends the open stream of a deleted agent pod at once, and refuses its token from then on, cached review or not", async (t) => {
    const token = bed.token;
    const stream = await bed.agent(1, token);
    stream.sendOutcomes([outcome(room, 'state', true, 'Alive')]);
    await bed.waitGameServer(room.name, (gs) => gs.spec.opsState === 'Alive', 'opsState Alive');
    // A second stream with the same token: accepted, from the decider's review cache.
    const again = await bed.agent(1, token);
    await stream.waitForError(5_000); // replaced by the newer stream

    await must(bed.admin, 'DELETE', `${agentPodPath()}?gracePeriodSeconds=0`);
    const deletedAt = Date.now();
    const err = await again.waitForError(10_000);
    const endedMs = Date.now() - deletedAt;
    assert.equal(err.code, status.UNAUTHENTICATED, err.details);
    t.diagnostic(`the deleted agent pod's stream ended ${endedMs} ms after the deletion`);
    assert.ok(endedMs < END_BOUND_MS, `the dead identity's stream lived ${endedMs} ms after its pod was deleted`);
    // Its token, whose review the decider cached seconds ago, no longer opens a stream.
    const retry = new TestAgent(`127.0.0.1:${bed.decider!.grpcPort}`, token).hello(bed.node);
    bed.agents.push(retry);
    assert.equal((await retry.waitForError(10_000)).code, status.UNAUTHENTICATED);
    assert.equal(retry.plans().length, 0);
    assert.equal((await bed.gameServer(room.name)).spec.opsState, 'Alive', 'nothing the dead identity sent after its end was applied');
    const text = await bed.metrics();
    assert.equal(metricSum(text, 'okgsq_agent_sessions_revoked_total', 'reason="pod_gone"'), 1);
  });

  it('ends a stream at its token expiry; the real agent comes back with the fresh token kubelet rotated into its file', async (t) => {
    // A new agent pod for the node (same name, new uid) and its real token.
    const fresh = await agentToken(bed.admin, bed.ns, bed.node);
    const expiring = resigned(fresh, EXPIRES_IN_SECONDS);
    const expiresAt = JSON.parse(Buffer.from(expiring.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const tokenFile = join(mkdtempSync(join(testbedEnv().workDir, 'bad-identity-')), 'token');
    writeFileSync(tokenFile, expiring);
    const httpPort = await freePort();
    agent = startAgent(bed.node, bed.decider!.grpcPort, expiring, { OKGSQ_TOKEN_FILE: tokenFile, OKGSQ_HTTP_PORT: String(httpPort) });
    const connected = async (): Promise<boolean> => /^okgsq_agents_connected 1$/m.test(await bed.metrics());
    await waitFor(connected, { timeoutMs: 20_000, what: `the agent connected (agent log: ${agent.log.slice(-1500)})` });
    // As the kubelet does (at 80 % of the lifetime): the file now holds a fresh token; the open stream
    // still runs on the old one, which the decider must stop honouring at its expiry.
    writeFileSync(tokenFile, resigned(fresh, 600));
    const revoked = async (): Promise<number> => metricSum(await bed.metrics(), 'okgsq_agent_sessions_revoked_total', 'reason="token_expired"');
    await waitFor(async () => (await revoked()) === 1, { timeoutMs: EXPIRES_IN_SECONDS * 1000 + 10_000, intervalMs: 100, what: 'the session ended at the token expiry' });
    const lateMs = Date.now() - expiresAt;
    t.diagnostic(`the session ended ${lateMs} ms after the token's exp`);
    assert.ok(lateMs > -1_000 && lateMs < END_BOUND_MS, `the session ended ${lateMs} ms after the token's exp`);
    // The agent re-reads its token file on reconnect, and is back with the fresh token.
    const endedAt = Date.now();
    await waitFor(connected, { timeoutMs: 20_000, what: `the agent back with the fresh token (agent log: ${agent.log.slice(-1500)})` });
    t.diagnostic(`the agent was back with the rotated token ${Date.now() - endedAt} ms later`);
    const agentMetrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(agentMetrics, /^okgsq_agent_stream_connected 1$/m);
  });
});
