// The chart's alerting rules: valid for promtool and a real Prometheus, and alerting when (and only
// when) they should, per the promtool unit tests in rules-test.yaml.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPrometheus, type RunningPrometheus } from '../testbed/prometheus.js';
import { httpGet } from '../testbed/https-get.js';
import { waitFor } from '../testbed/wait-for.js';
import { chartFiles } from './chart-files.js';
import { promtool } from './promtool.js';
import { parse as parseYaml } from 'yaml';

const PROMETHEUS_RULES_TIMEOUT_MS = 15_000;

/** The alert names of the chart's rule file. */
function alertNames(): string[] {
  const file = parseYaml(readFileSync(chartFiles.alertRules(), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
  return file.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => a !== undefined).sort();
}

const EXPECTED_ALERTS = [
  'OkgSqAgentsMissing',
  'OkgSqForeignConditionWriter',
  'OkgSqInvalidServiceQualities',
  'OkgSqKubeWriteErrors',
  'OkgSqMassProbeErrors',
  'OkgSqNoLeader',
  'OkgSqProbesCannotRun',
  'OkgSqProbesStale',
  'OkgSqSlowFlipToPatch',
  'OkgSqWriteQueueGrowing',
];

describe('alerting rules (charts/okg-sq/rules/okg-sq-alerts.yaml)', () => {
  it('pass `promtool check rules`', async () => {
    const res = await promtool(['check', 'rules', chartFiles.alertRules()]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`));
    assert.deepEqual(alertNames(), EXPECTED_ALERTS);
  });

  it('has a promtool test in which each alert fires, and one in which it stays silent', () => {
    const tests = (parseYaml(readFileSync(chartFiles.rulesTest(), 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    const fires = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
    const silent = new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
    assert.deepEqual(EXPECTED_ALERTS.filter((a) => !fires.has(a)), [], 'alerts never expected to fire');
    assert.deepEqual(EXPECTED_ALERTS.filter((a) => !silent.has(a)), [], 'alerts never expected to stay silent');
  });

  it('fire as specified in test/chart/rules-test.yaml (`promtool test rules`)', async () => {
    const res = await promtool(['test', 'rules', chartFiles.rulesTest()], { cwd: dirname(chartFiles.rulesTest()) });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /SUCCESS/);
  });

  describe('loaded by a real Prometheus', () => {
    let prom: RunningPrometheus;
    before(async () => {
      prom = await startPrometheus({ targets: [], ruleFiles: [chartFiles.alertRules()] });
    });
    after(async () => {
      await prom?.stop();
    });

    it('every alert is loaded, healthy, and the no-leader alert is pending without a decider', async () => {
      const rules = await waitFor(async () => {
        const res = await httpGet(`${prom.url}/api/v1/rules?type=alert`);
        const groups = JSON.parse(res.body).data.groups as { rules: { name: string; health: string; state: string }[] }[];
        const all = groups.flatMap((g) => g.rules);
        const evaluated = all.length === EXPECTED_ALERTS.length && all.every((r) => r.health === 'ok');
        return evaluated && all.find((r) => r.name === 'OkgSqNoLeader')?.state === 'pending' ? all : undefined;
      }, { timeoutMs: PROMETHEUS_RULES_TIMEOUT_MS, intervalMs: 200, what: 'prometheus evaluating the okg-sq alerts' });
      assert.deepEqual(rules.map((r) => r.name).sort(), EXPECTED_ALERTS);
    });
  });
});
