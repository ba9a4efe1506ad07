// Pod networking for the bed: a CNI conflist (bridge + host-local) so sandboxes get real IPs reachable from
// the host. The subnet must not overlap the machine's own (192.0.2.0/24 here).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CniNetwork {
  bridge: string;
  subnet: string;
}

export const DEFAULT_CNI_NETWORK: CniNetwork = Object.freeze({ bridge: 'okgsq0', subnet: '10.254.77.0/24' });
export const CNI_BIN_DIR = '/usr/lib/cni';

export function writeCniConfig(confDir: string, ipamDataDir: string, network: CniNetwork): void {
  mkdirSync(confDir, { recursive: true });
  mkdirSync(ipamDataDir, { recursive: true });
  const conflist = {
    cniVersion: '0.4.0',
    name: `okgsq-testbed-${network.bridge}`,
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: network.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDataDir },
      },
    ],
  };
  writeFileSync(join(confDir, '10-okgsq-testbed.conflist'), JSON.stringify(conflist, null, 2));
}

export function bridgeExists(bridge: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', bridge], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function deleteBridge(bridge: string): void {
  if (bridgeExists(bridge)) execFileSync('ip', ['link', 'delete', 'dev', bridge], { stdio: 'ignore' });
}
