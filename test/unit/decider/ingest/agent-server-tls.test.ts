// The agent server with TLS from files: a self-signed certificate made with openssl for this test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { startAgentServer, type AgentServer } from '../../../../decider/ingest/agent-server.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger, target, TestAgent } from './ingest-kit.js';
import { waitFor } from '../../../testbed/wait-for.js';

const SERVER_NAME = 'okg-sq-decider.okg-sq.svc';

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

describe('agent server over TLS', () => {
  let dir: string;
  let server: AgentServer;
  let pki: { cert: string; key: string };
  let serving: { cert: string; key: string };
  let plans: FakePlanSource;
  const agents: TestAgent[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'okgsq-ingest-tls-'));
    pki = selfSigned(dir, SERVER_NAME);
    serving = { cert: join(dir, 'serving.crt'), key: join(dir, 'serving.key') };
    copyFileSync(pki.cert, serving.cert);
    copyFileSync(pki.key, serving.key);
    plans = new FakePlanSource();
    plans.set('node-a', [target('node-a', 'p1')]);
    server = await startAgentServer({
      port: 0, host: '127.0.0.1', tls: { certFile: serving.cert, keyFile: serving.key }, tlsRefreshIntervalMs: 100,
      plans, sink: new FakeSink(), authenticator: new FakeAuthenticator(), metrics: new FakeMetrics(), logger: silentLogger,
    });
  });
  after(async () => {
    for (const a of agents) a.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function agent(creds: ReturnType<typeof credentials.createSsl>, token = 'token-node-a'): TestAgent {
    const a = new TestAgent(`127.0.0.1:${server.port}`, token, creds, { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.default_authority': SERVER_NAME });
    agents.push(a);
    return a;
  }

  it('serves an agent that trusts its certificate', async () => {
    // The certificate is loaded asynchronously by the file watcher: retry the first connection.
    let a: TestAgent | undefined;
    await waitFor(() => {
      if (a?.plans().length === 1) return true;
      if (!a || a.error) a = agent(credentials.createSsl(readFileSync(pki.cert))).hello('node-a');
      return false;
    }, { what: 'a TLS stream with a plan', timeoutMs: 10_000 });
    assert.equal(a!.plans()[0]!.upsert[0]!.podUid, 'p1');
  });

  it('refuses a client that does not speak TLS', async () => {
    const a = new TestAgent(`127.0.0.1:${server.port}`, 'token-node-a', credentials.createInsecure());
    agents.push(a);
    a.hello('node-a');
    assert.equal((await a.waitForError()).code, status.UNAVAILABLE);
    assert.equal(a.plans().length, 0);
  });

  it('refuses a client that does not trust the certificate', async () => {
    const other = selfSigned(dir, 'someone-else');
    const a = agent(credentials.createSsl(readFileSync(other.cert))).hello('node-a');
    assert.equal((await a.waitForError()).code, status.UNAVAILABLE);
    assert.equal(a.plans().length, 0);
  });

  it('serves a rotated certificate without a restart', async () => {
    const rotated = selfSigned(dir, `rotated-${SERVER_NAME}`);
    const trustsRotated = () => credentials.createSsl(readFileSync(rotated.cert));
    const before = agent(trustsRotated()).hello('node-a');
    assert.equal((await before.waitForError()).code, status.UNAVAILABLE, 'the old certificate is still served');
    copyFileSync(rotated.key, serving.key);
    copyFileSync(rotated.cert, serving.cert);
    let a: TestAgent | undefined;
    await waitFor(() => {
      if (a?.plans().length === 1) return true;
      if (!a || a.error) {
        a = new TestAgent(`127.0.0.1:${server.port}`, 'token-node-a', trustsRotated(), { 'grpc.ssl_target_name_override': `rotated-${SERVER_NAME}`, 'grpc.default_authority': `rotated-${SERVER_NAME}` });
        agents.push(a);
        a.hello('node-a');
      }
      return false;
    }, { what: 'a stream verified with the rotated certificate', timeoutMs: 10_000 });
  });
});
