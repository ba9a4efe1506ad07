// Decoders for the two CRI responses the agent reads that carry int64 nanosecond timestamps. The
// generated code (forceLong=number) throws on values above 2^53, which every real timestamp in ns is,
// so these are read with the protobuf wire reader, field numbers as upstream k8s.io/cri-api.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface ContainerSummary {
  readonly id: string;
  readonly state: number;
  readonly attempt: number;
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerStatusSummary {
  readonly id: string;
  readonly state: number;
  /** Unix ms; 0 = not started. */
  readonly startedAtMs: number;
}

const NS_PER_MS = 1_000_000n;

function nsToMs(value: bigint | string | number): number {
  return Number(BigInt(value) / NS_PER_MS);
}

function eachField(bytes: Uint8Array, on: (field: number, wire: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (!on(field, wire, r)) r.skip(wire);
  }
}

function mapEntry(bytes: Uint8Array, into: Record<string, string>): void {
  let key = '';
  let value = '';
  eachField(bytes, (f, w, r) => {
    if (w !== WireType.LengthDelimited) return false;
    if (f === 1) key = r.string();
    else if (f === 2) value = r.string();
    else return false;
    return true;
  });
  into[key] = value;
}

/** ContainerMetadata { name 1; attempt 2 } → attempt */
function metadataAttempt(bytes: Uint8Array): number {
  let attempt = 0;
  eachField(bytes, (f, w, r) => {
    if (f === 2 && w === WireType.Varint) {
      attempt = r.uint32();
      return true;
    }
    return false;
  });
  return attempt;
}

/** Container { id 1; metadata 3; state 6; created_at 7; labels 8 } */
function container(bytes: Uint8Array): ContainerSummary {
  let id = '';
  let state = 0;
  let attempt = 0;
  let createdAtMs = 0;
  const labels: Record<string, string> = {};
  eachField(bytes, (f, w, r) => {
    if (f === 1 && w === WireType.LengthDelimited) id = r.string();
    else if (f === 3 && w === WireType.LengthDelimited) attempt = metadataAttempt(r.bytes());
    else if (f === 6 && w === WireType.Varint) state = r.int32();
    else if (f === 7 && w === WireType.Varint) createdAtMs = nsToMs(r.int64());
    else if (f === 8 && w === WireType.LengthDelimited) mapEntry(r.bytes(), labels);
    else return false;
    return true;
  });
  return { id, state, attempt, createdAtMs, labels };
}

/** ListContainersResponse { repeated Container containers = 1 } */
export function decodeListContainersResponse(bytes: Uint8Array): ContainerSummary[] {
  const out: ContainerSummary[] = [];
  eachField(bytes, (f, w, r) => {
    if (f !== 1 || w !== WireType.LengthDelimited) return false;
    out.push(container(r.bytes()));
    return true;
  });
  return out;
}

/** ContainerStatusResponse { ContainerStatus status = 1 { id 1; state 3; started_at 5 } } */
export function decodeContainerStatusResponse(bytes: Uint8Array): ContainerStatusSummary {
  let status: ContainerStatusSummary = { id: '', state: 0, startedAtMs: 0 };
  eachField(bytes, (f, w, r) => {
    if (f !== 1 || w !== WireType.LengthDelimited) return false;
    let id = '';
    let state = 0;
    let startedAtMs = 0;
    eachField(r.bytes(), (g, gw, r2) => {
      if (g === 1 && gw === WireType.LengthDelimited) id = r2.string();
      else if (g === 3 && gw === WireType.Varint) state = r2.int32();
      else if (g === 5 && gw === WireType.Varint) startedAtMs = nsToMs(r2.int64());
      else return false;
      return true;
    });
    status = { id, state, startedAtMs };
    return true;
  });
  return status;
}
