// Which CRI socket to talk to: OKGSQ_CRI_ENDPOINT, or the first default socket of a known runtime that
// exists on the node (the DaemonSet mounts the host's /run).
import { existsSync } from 'node:fs';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';

export const DEFAULT_CRI_ENDPOINTS = Object.freeze([
  'unix:///run/containerd/containerd.sock',
  'unix:///var/run/crio/crio.sock',
]);

/** A grpc-js address for the endpoint: `unix:///abs/path`; a bare absolute path is taken as a socket. */
export function criAddress(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `CRI endpoint ${JSON.stringify(endpoint)} is not unix:///path or an absolute socket path`);
}

export function socketPath(address: string): string {
  return address.replace(/^unix:\/\//, '');
}

export function resolveCriEndpoint(configured: string, exists: (path: string) => boolean = existsSync): string {
  if (configured !== '') return criAddress(configured);
  const found = DEFAULT_CRI_ENDPOINTS.find((e) => exists(socketPath(e)));
  if (!found) {
    throw new OkgSqError(
      ERROR_CODES.RUNTIME_UNAVAILABLE,
      `no CRI socket found at ${DEFAULT_CRI_ENDPOINTS.join(', ')}; set OKGSQ_CRI_ENDPOINT`,
    );
  }
  return found;
}
