// What a cluster bed could change on the host, read the same way before, during and after one: the KUBE-*
// iptables chains and the built-in chains' rules into them, kube-router's ipsets (--netpol), the kubepods
// cgroups, the sysctls the kubelet, kube-proxy and --netpol would set, the kubelet's fixed paths, and the
// mounts outside the beds' own work dirs (other beds' come and go meanwhile).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { BRIDGE_NF_SYSCTLS, kubeChains, kubepodsCgroups, kubeRouterIpsets, kubeRules } from '../testbed/cluster-host.js';
import { KUBELET_SYSCTLS } from '../testbed/cluster-node.js';

const KUBE_PROXY_SYSCTLS = [
  'net/ipv4/conf/all/route_localnet',
  'net/netfilter/nf_conntrack_max',
  'net/netfilter/nf_conntrack_tcp_timeout_established',
  'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
  'net/ipv4/ip_forward',
] as const;
const BED_WORK_DIRS = /^\/tmp\/okgsq-tb-[^/]+(\/|$)/;

export interface HostState {
  kubeChains: string[];
  /** Rules of the built-in chains that jump to KUBE-* chains. */
  kubeRules: string[];
  kubeRouterIpsets: string[];
  kubepodsCgroups: string[];
  sysctls: Record<string, string>;
  varLibKubelet: boolean;
  varLogContainers: string[];
  /** Mount points outside the beds' work dirs. */
  mounts: string[];
}

export function hostState(): HostState {
  const sysctls: Record<string, string> = {};
  for (const name of [...Object.keys(KUBELET_SYSCTLS), ...KUBE_PROXY_SYSCTLS, ...BRIDGE_NF_SYSCTLS]) {
    try {
      sysctls[name] = readFileSync(`/proc/sys/${name}`, 'utf8').trim();
    } catch {
      sysctls[name] = '(absent)';
    }
  }
  let varLogContainers: string[] = [];
  try {
    varLogContainers = readdirSync('/var/log/containers').sort();
  } catch {
    varLogContainers = ['(absent)'];
  }
  return {
    kubeChains: kubeChains(),
    kubeRules: kubeRules(),
    kubeRouterIpsets: kubeRouterIpsets(),
    kubepodsCgroups: kubepodsCgroups(),
    sysctls,
    varLibKubelet: existsSync('/var/lib/kubelet'),
    varLogContainers,
    mounts: mountPoints().filter((m) => !BED_WORK_DIRS.test(m)).sort(),
  };
}

export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]).filter((m): m is string => m !== undefined && m !== '');
}
