// PURE: one quality's probe handler (exec, httpGet, tcpSocket, grpc): exactly one, ports valid and
// resolvable in the probed container, no `host` (probes go to the pod's own IP).
import type { HttpHeader, ProbeHandlerSpec } from '../../common/service-quality.js';
import { isObj, present, quote, typeName, type Ctx, type Obj, type TemplateContainer } from './schema-context.js';

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

function parsePort(ctx: Ctx, path: string, port: unknown, container: TemplateContainer | undefined, allowName: boolean): number | string | undefined {
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
      ctx.p.add('error', 'InvalidPort', path, `port ${quote(port)} must be an integer from 1 to ${MAX_PORT}`);
      return undefined;
    }
    return port;
  }
  if (typeof port === 'string') {
    if (!allowName) {
      ctx.p.add('error', 'InvalidPort', path, `grpc.port must be a number (Kubernetes does not resolve named ports for grpc), got ${quote(port)}`);
      return undefined;
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
  ctx.p.add('error', port === undefined || port === null ? 'MissingField' : 'WrongType', path, `port must be a number or a port name, got ${typeName(port)}`);
  return undefined;
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
  const h = sq[kind];
  if (!isObj(h)) {
    ctx.p.add('error', 'WrongType', hp, `${kind} must be an object, got ${typeName(h)}`);
    return undefined;
  }
  switch (kind) {
    case 'exec': {
      const cmd = h['command'];
      if (!Array.isArray(cmd) || cmd.length === 0) {
        ctx.p.add('error', cmd === undefined ? 'MissingField' : 'WrongType', `${hp}.command`, 'exec.command must be a non-empty list of strings');
        return undefined;
      }
      const bad = cmd.findIndex((c) => typeof c !== 'string');
      if (bad >= 0) {
        ctx.p.add('error', 'WrongType', `${hp}.command[${bad}]`, `command entries must be strings, got ${typeName(cmd[bad])}`);
        return undefined;
      }
      return { kind: 'exec', command: cmd as string[] };
    }
    case 'httpGet': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook does not support httpGet probes (exec and tcpSocket only); okg-sq runs it');
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, true);
      let ok = hostOk && port !== undefined;
      const scheme = h['scheme'] ?? 'HTTP';
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
        ctx.p.add('error', 'InvalidValue', `${hp}.scheme`, `scheme must be HTTP or HTTPS, got ${quote(scheme)}`);
        ok = false;
      }
      const path0 = h['path'] ?? '/';
      if (typeof path0 !== 'string') {
        ctx.p.add('error', 'WrongType', `${hp}.path`, `path must be a string, got ${typeName(path0)}`);
        ok = false;
      }
      const headers: HttpHeader[] = [];
      const rawHeaders = h['httpHeaders'] ?? [];
      if (!Array.isArray(rawHeaders)) {
        ctx.p.add('error', 'WrongType', `${hp}.httpHeaders`, 'httpHeaders must be a list of {name, value}');
        ok = false;
      } else {
        rawHeaders.forEach((hd, i) => {
          if (isObj(hd) && typeof hd['name'] === 'string' && hd['name'] !== '' && typeof (hd['value'] ?? '') === 'string') {
            headers.push({ name: hd['name'], value: (hd['value'] as string | undefined) ?? '' });
          } else {
            ctx.p.add('error', 'WrongType', `${hp}.httpHeaders[${i}]`, 'a header must be {name: string, value: string}');
            ok = false;
          }
        });
      }
      if (!ok) return undefined;
      const p = path0 as string;
      return { kind: 'httpGet', path: p === '' ? '/' : p, port: port!, scheme: scheme as 'HTTP' | 'HTTPS', headers };
    }
    case 'tcpSocket': {
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, true);
      return hostOk && port !== undefined ? { kind: 'tcpSocket', port } : undefined;
    }
    case 'grpc': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook knows exec and tcpSocket handlers only ("must specify a handler type"); okg-sq runs grpc probes');
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, false);
      const service = h['service'] ?? '';
      if (typeof service !== 'string') {
        ctx.p.add('error', 'WrongType', `${hp}.service`, `service must be a string, got ${typeName(service)}`);
        return undefined;
      }
      return port !== undefined ? { kind: 'grpc', port: port as number, service } : undefined;
    }
  }
}
