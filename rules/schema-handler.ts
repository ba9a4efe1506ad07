// PURE: one quality's probe handler (exec, httpGet, tcpSocket, grpc): exactly one, ports valid and
// resolvable in the probed container, no `host` (probes go to the pod's own IP).
import type { HttpHeader, ProbeHandlerSpec } from '../common/service-quality.js';
import { isObj, present, quote, type Ctx, type Obj, type TemplateContainer } from './schema-context.js';

const MAX_PORT = 65535;
const MAX_PORT_NAME = 15;
const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;

/** Kubernetes' IsValidPortName (IANA_SVC_NAME). */
function portNameError(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_PORT_NAME) return `a port name has 1 to ${MAX_PORT_NAME} characters`;
  if (!/^[-a-z0-9]+$/.test(name)) return 'a port name has only lowercase letters, digits and "-"';
  if (!/[a-z]/.test(name)) return 'a port name has at least one letter';
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) return 'a port name has no leading, trailing or double "-"';
  return undefined;
}

function parsePort(ctx: Ctx, path: string, port: number | string, container: TemplateContainer | undefined): number | string | undefined {
  if (typeof port === 'number') {
    if (port < 1 || port > MAX_PORT) {
      ctx.p.add('error', 'InvalidPort', path, `port ${quote(port)} must be an integer from 1 to ${MAX_PORT}`);
      return undefined;
    }
    return port;
  }
  if (/^[0-9]+$/.test(port)) {
    ctx.p.add('error', 'InvalidPort', path, `port ${quote(port)} is a string of digits; write it as a number`);
    return undefined;
  }
  const bad = portNameError(port);
  if (bad) {
    ctx.p.add('error', 'InvalidPort', path, `port name ${quote(port)} is invalid: ${bad}`);
    return undefined;
  }
  if (container && !ctx.byName.get(container.name)?.portNames.has(port)) {
    ctx.p.add('error', 'UnknownPortName', path, `container ${quote(container.name)} has no port named ${quote(port)}`);
    return undefined;
  }
  return port;
}

function refuseHost(ctx: Ctx, path: string, h: Obj): boolean {
  if (present(h, 'host') && h['host'] !== '') {
    ctx.p.add('error', 'HostRefused', `${path}.host`, 'host is refused: probes go to the pod\'s own IP (a host would let a GameServerSet make the prober call any address)');
    return false;
  }
  return true;
}

export function parseHandler(ctx: Ctx, path: string, sq: Obj, container: TemplateContainer | undefined): ProbeHandlerSpec | undefined {
  const found = HANDLERS.filter((k) => present(sq, k));
  if (found.length === 0) {
    ctx.p.add('error', 'NoHandler', path, 'no probe handler: set one of exec, httpGet, tcpSocket, grpc');
    return undefined;
  }
  if (found.length > 1) {
    ctx.p.add('error', 'SeveralHandlers', `${path}.${found[1]}`, `only one probe handler may be set, found ${found.join(', ')}`);
    // A host is still named on each handler: fixing the handlers must not hide the one problem that is a hole.
    for (const k of found) {
      const h = sq[k];
      if ((k === 'httpGet' || k === 'tcpSocket') && isObj(h)) refuseHost(ctx, `${path}.${k}`, h);
    }
    return undefined;
  }
  const kind = found[0]!;
  const hp = `${path}.${kind}`;
  const h = sq[kind] as Obj; // shape-checked by the CRD's schema, as every field below
  switch (kind) {
    case 'exec': {
      const cmd = (h['command'] as string[] | null | undefined) ?? [];
      if (cmd.length === 0) {
        ctx.p.add('error', h['command'] === undefined || h['command'] === null ? 'MissingField' : 'WrongType', `${hp}.command`, 'exec.command must be a non-empty list of strings');
        return undefined;
      }
      return { kind: 'exec', command: cmd };
    }
    case 'httpGet': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook does not support httpGet probes (exec and tcpSocket only); okg-sq runs it');
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'] as number | string, container);
      let ok = hostOk && port !== undefined;
      const scheme = (h['scheme'] as string | null | undefined) ?? 'HTTP';
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
        ctx.p.add('error', 'InvalidValue', `${hp}.scheme`, `scheme must be HTTP or HTTPS, got ${quote(scheme)}`);
        ok = false;
      }
      const headers: HttpHeader[] = [];
      ((h['httpHeaders'] as HttpHeader[] | null | undefined) ?? []).forEach((hd, i) => {
        if (hd.name === '') {
          ctx.p.add('error', 'InvalidValue', `${hp}.httpHeaders[${i}].name`, 'a header name must not be empty');
          ok = false;
        } else headers.push({ name: hd.name, value: hd.value });
      });
      if (!ok) return undefined;
      const p = (h['path'] as string | null | undefined) ?? '/';
      return { kind: 'httpGet', path: p === '' ? '/' : p, port: port!, scheme: scheme as 'HTTP' | 'HTTPS', headers };
    }
    case 'tcpSocket': {
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'] as number | string, container);
      return hostOk && port !== undefined ? { kind: 'tcpSocket', port } : undefined;
    }
    case 'grpc': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook knows exec and tcpSocket handlers only ("must specify a handler type"); okg-sq runs grpc probes');
      // An integer by the CRD: Kubernetes does not resolve named ports for grpc.
      const port = parsePort(ctx, `${hp}.port`, h['port'] as number, container);
      return port !== undefined ? { kind: 'grpc', port: port as number, service: (h['service'] as string | null | undefined) ?? '' } : undefined;
    }
  }
}
