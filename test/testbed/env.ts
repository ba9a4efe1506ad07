// The contract between the bed's runner and the tests it runs: OKGSQ_TB_* environment variables.
export interface TestbedEnv {
  /** Path of an admin kubeconfig (static token in system:masters). */
  kubeconfig: string;
  apiserverUrl: string;
  adminToken: string;
  /** Absolute path of the bed's CRI unix socket: containerd's, or CRI-O's with `run --runtime cri-o`. */
  containerdSocket: string;
  /** The runtime behind that socket, as CRI Version names it: `containerd` or `cri-o`. */
  criRuntime: string;
  /** Scratch directory of this bed run; tests may create subdirectories. */
  workDir: string;
  prometheusBin: string;
  promtoolBin: string;
  helmBin: string;
  /** The apiserver's --service-account-issuer (also accepted as a token audience). */
  serviceAccountIssuer: string;
}

export const TESTBED_ENV_VARS = {
  kubeconfig: 'OKGSQ_TB_KUBECONFIG',
  apiserverUrl: 'OKGSQ_TB_APISERVER_URL',
  adminToken: 'OKGSQ_TB_ADMIN_TOKEN',
  containerdSocket: 'OKGSQ_TB_CONTAINERD_SOCKET',
  criRuntime: 'OKGSQ_TB_CRI_RUNTIME',
  workDir: 'OKGSQ_TB_WORK_DIR',
  prometheusBin: 'OKGSQ_TB_PROMETHEUS_BIN',
  promtoolBin: 'OKGSQ_TB_PROMTOOL_BIN',
  helmBin: 'OKGSQ_TB_HELM_BIN',
  serviceAccountIssuer: 'OKGSQ_TB_SERVICE_ACCOUNT_ISSUER',
} as const satisfies Record<keyof TestbedEnv, string>;

/** Reads the bed's variables; throws naming the first missing one and how to get them. */
export function testbedEnv(source: NodeJS.ProcessEnv = process.env): TestbedEnv {
  const out: Partial<Record<keyof TestbedEnv, string>> = {};
  for (const [field, name] of Object.entries(TESTBED_ENV_VARS) as [keyof TestbedEnv, string][]) {
    const value = source[name];
    if (!value) {
      throw new Error(`${name} is not set: this test needs the test bed; run under \`node dist/test/testbed/cli.js run -- …\` (npm test does)`);
    }
    out[field] = value;
  }
  return Object.freeze(out as TestbedEnv);
}

/** The variables for a child process (and the `export` lines `up` prints). */
export function testbedEnvVars(env: TestbedEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [field, name] of Object.entries(TESTBED_ENV_VARS) as [keyof TestbedEnv, string][]) vars[name] = env[field];
  return vars;
}
