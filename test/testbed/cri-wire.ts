// Decoders for the CRI responses that carry int64 nanosecond timestamps. The generated code (ts-proto with
// forceLong=number) throws on them ("Value is larger than Number.MAX_SAFE_INTEGER"), so the bed reads these
// messages itself, with field numbers as upstream k8s.io/cri-api, converting nanoseconds to milliseconds.
import { BinaryReader } from '@bufbuild/protobuf/wire';

export interface SandboxStatusView { id: string; state: number; ip: string; createdAtMs: number }
export interface SandboxView { id: string; state: number; labels: Record<string, string> }
export interface ContainerStatusView {
  id: string; name: string; state: number; createdAtMs: number; startedAtMs: number; finishedAtMs: number;
  exitCode: number; imageRef: string; reason: string; message: string; labels: Record<string, string>;
}
export interface ContainerView { id: string; podSandboxId: string; name: string; state: number; createdAtMs: number; labels: Record<string, string> }

const NANOS_PER_MS = 1_000_000n;
const WIRE_LEN = 2;

function nanosToMs(value: bigint | string): number {
  return Number(BigInt(value) / NANOS_PER_MS);
}

/** Calls onField(fieldNumber, reader) for each field; unknown fields are skipped. */
function readFields(bytes: Uint8Array, onField: (field: number, wireType: number, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (!onField(field, wireType, r)) r.skip(wireType);
  }
}

function readMapEntry(bytes: Uint8Array, into: Record<string, string>): void {
  let key = '';
  let value = '';
  readFields(bytes, (field, _w, r) => {
    if (field === 1) key = r.string();
    else if (field === 2) value = r.string();
    else return false;
    return true;
  });
  into[key] = value;
}

function subMessage(field: number, wireType: number, r: BinaryReader, want: number, fn: (bytes: Uint8Array) => void): boolean {
  if (field !== want || wireType !== WIRE_LEN) return false;
  fn(r.bytes());
  return true;
}

/** PodSandboxStatusResponse { PodSandboxStatus status = 1 { id 1; state 3; created_at 4; network 5 { ip 1 } } } */
export function decodePodSandboxStatusResponse(buf: Buffer): { status: SandboxStatusView } {
  const status: SandboxStatusView = { id: '', state: 0, ip: '', createdAtMs: 0 };
  readFields(buf, (f, w, r) => subMessage(f, w, r, 1, (s) => readFields(s, (g, w2, r2) => {
    if (g === 1) status.id = r2.string();
    else if (g === 3) status.state = r2.int32();
    else if (g === 4) status.createdAtMs = nanosToMs(r2.int64());
    else if (g === 5 && w2 === WIRE_LEN) readFields(r2.bytes(), (h, _w3, r3) => (h === 1 ? ((status.ip = r3.string()), true) : false));
    else return false;
    return true;
  })));
  return { status };
}

/** ListPodSandboxResponse { repeated PodSandbox items = 1 { id 1; state 3; labels 5 } } */
export function decodeListPodSandboxResponse(buf: Buffer): { items: SandboxView[] } {
  const items: SandboxView[] = [];
  readFields(buf, (f, w, r) => subMessage(f, w, r, 1, (s) => {
    const item: SandboxView = { id: '', state: 0, labels: {} };
    readFields(s, (g, w2, r2) => {
      if (g === 1) item.id = r2.string();
      else if (g === 3) item.state = r2.int32();
      else if (g === 5 && w2 === WIRE_LEN) readMapEntry(r2.bytes(), item.labels);
      else return false;
      return true;
    });
    items.push(item);
  }));
  return { items };
}

/** ContainerStatusResponse { ContainerStatus status = 1 { id 1; metadata 2 {name 1}; state 3; created_at 4; started_at 5; finished_at 6; exit_code 7; image_ref 9; reason 10; message 11; labels 12 } } */
export function decodeContainerStatusResponse(buf: Buffer): { status: ContainerStatusView } {
  const status: ContainerStatusView = { id: '', name: '', state: 0, createdAtMs: 0, startedAtMs: 0, finishedAtMs: 0, exitCode: 0, imageRef: '', reason: '', message: '', labels: {} };
  readFields(buf, (f, w, r) => subMessage(f, w, r, 1, (s) => readFields(s, (g, w2, r2) => {
    switch (g) {
      case 1: status.id = r2.string(); break;
      case 2: if (w2 !== WIRE_LEN) return false; readFields(r2.bytes(), (h, _w, r3) => (h === 1 ? ((status.name = r3.string()), true) : false)); break;
      case 3: status.state = r2.int32(); break;
      case 4: status.createdAtMs = nanosToMs(r2.int64()); break;
      case 5: status.startedAtMs = nanosToMs(r2.int64()); break;
      case 6: status.finishedAtMs = nanosToMs(r2.int64()); break;
      case 7: status.exitCode = r2.int32(); break;
      case 9: status.imageRef = r2.string(); break;
      case 10: status.reason = r2.string(); break;
      case 11: status.message = r2.string(); break;
      case 12: if (w2 !== WIRE_LEN) return false; readMapEntry(r2.bytes(), status.labels); break;
      default: return false;
    }
    return true;
  })));
  return { status };
}

/** ListContainersResponse { repeated Container containers = 1 { id 1; pod_sandbox_id 2; metadata 3 {name 1}; state 6; created_at 7; labels 8 } } */
export function decodeListContainersResponse(buf: Buffer): { containers: ContainerView[] } {
  const containers: ContainerView[] = [];
  readFields(buf, (f, w, r) => subMessage(f, w, r, 1, (s) => {
    const c: ContainerView = { id: '', podSandboxId: '', name: '', state: 0, createdAtMs: 0, labels: {} };
    readFields(s, (g, w2, r2) => {
      switch (g) {
        case 1: c.id = r2.string(); break;
        case 2: c.podSandboxId = r2.string(); break;
        case 3: if (w2 !== WIRE_LEN) return false; readFields(r2.bytes(), (h, _w, r3) => (h === 1 ? ((c.name = r3.string()), true) : false)); break;
        case 6: c.state = r2.int32(); break;
        case 7: c.createdAtMs = nanosToMs(r2.int64()); break;
        case 8: if (w2 !== WIRE_LEN) return false; readMapEntry(r2.bytes(), c.labels); break;
        default: return false;
      }
      return true;
    });
    containers.push(c);
  }));
  return { containers };
}
