import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentOptions } from '../../../agent/options.js';

const BASE = { OKGSQ_NODE_NAME: 'node-a', OKGSQ_DECIDER_ADDRESS: 'okg-sq-decider.okg-sq.svc:9443', OKGSQ_TLS_CA_FILE: '/etc/okg-sq/ca.crt' };

describe('agentOptions', () => {
  it('applies the documented defaults and freezes the result', () => {
    const o = agentOptions(BASE);
    assert.deepEqual(o, {
      nodeName: 'node-a',
      deciderAddress: 'okg-sq-decider.okg-sq.svc:9443',
      tls: { caFile: '/etc/okg-sq/ca.crt', serverName: '' },
      tokenFile: '/var/run/secrets/okg-sq/token',
      criEndpoint: '',
      httpPort: 9090,
      maxConcurrentExecs: 16,
      resyncSeconds: 60,
      logLevel: 'info',
    });
    assert.ok(Object.isFrozen(o));
  });

  it('allows plaintext only with OKGSQ_INSECURE_GRPC=true', () => {
    const { OKGSQ_TLS_CA_FILE: _ca, ...noCa } = BASE;
    assert.throws(() => agentOptions(noCa), /OKGSQ_TLS_CA_FILE="": required unless OKGSQ_INSECURE_GRPC=true/);
    assert.equal(agentOptions({ ...noCa, OKGSQ_INSECURE_GRPC: 'true' }).tls, 'insecure');
  });

  it('names the variable and the bad value', () => {
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_NODE_NAME: '' }), /OKGSQ_NODE_NAME/);
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_DECIDER_ADDRESS: 'no-port' }), /OKGSQ_DECIDER_ADDRESS="no-port"/);
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_MAX_CONCURRENT_EXECS: '0' }), /OKGSQ_MAX_CONCURRENT_EXECS="0"/);
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_HTTP_PORT: 'x' }), /OKGSQ_HTTP_PORT="x"/);
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_INSECURE_GRPC: 'yes' }), /OKGSQ_INSECURE_GRPC="yes"/);
    assert.throws(() => agentOptions({ ...BASE, OKGSQ_LOG_LEVEL: 'loud' }), /OKGSQ_LOG_LEVEL="loud"/);
  });
});
