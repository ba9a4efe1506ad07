import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialDelayPassed, Thresholds, withOkgDefaults } from '../../../common/thresholds.js';

const timing = (successThreshold: number, failureThreshold: number) =>
  withOkgDefaults({ successThreshold, failureThreshold, periodSeconds: 1, timeoutSeconds: 1, initialDelaySeconds: 1 });

function run(t: Thresholds, states: boolean[]): (boolean | undefined)[] {
  return states.map((state) => (t.observe({ state }) ? state : undefined));
}

describe('Thresholds', () => {
  it('publishes nothing before the first crossing (no Unknown-as-False on new pods)', () => {
    const t = new Thresholds(timing(1, 3));
    assert.deepEqual(run(t, [false, false]), [undefined, undefined]);
    assert.equal(t.published, undefined);
    assert.equal(t.observe({ state: false }), true);
    assert.equal(t.published, false);
  });

  it('changes the published state only after failureThreshold consecutive failures', () => {
    const t = new Thresholds(timing(1, 3));
    assert.deepEqual(run(t, [true, false, false, true, false, false, false, false]), [true, undefined, undefined, true, undefined, undefined, false, false]);
    assert.equal(t.published, false);
  });

  it('needs successThreshold consecutive successes to publish true', () => {
    const t = new Thresholds(timing(2, 1));
    assert.deepEqual(run(t, [false, true, false, true, true, true]), [false, undefined, false, undefined, true, true]);
  });

  it('a broken streak starts counting again, as the kubelet does', () => {
    const t = new Thresholds(timing(3, 3));
    run(t, [true, true, true]);
    // The lone true after two falses has not crossed successThreshold again: its run is not published,
    // though the published state is still true.
    assert.deepEqual(run(t, [false, false, true, false, false]), [undefined, undefined, undefined, undefined, undefined]);
    assert.equal(t.published, true);
    assert.deepEqual(run(t, [false]), [false]);
  });
});

describe('withOkgDefaults', () => {
  it("applies OKG's defaults on zero or missing fields only", () => {
    assert.deepEqual(withOkgDefaults({}), { initialDelaySeconds: 10, timeoutSeconds: 5, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(withOkgDefaults({ initialDelaySeconds: 0, periodSeconds: 7, failureThreshold: 1 }), {
      initialDelaySeconds: 10, timeoutSeconds: 5, periodSeconds: 7, successThreshold: 1, failureThreshold: 1,
    });
  });
});

describe('initialDelayPassed', () => {
  it('counts from the container start', () => {
    assert.equal(initialDelayPassed(1_000, 10_999, 10), false);
    assert.equal(initialDelayPassed(1_000, 11_000, 10), true);
  });
  it('treats an unknown start as passed', () => {
    assert.equal(initialDelayPassed(0, 5, 10), true);
  });
});
