// The user's input, OKG's `serviceQualities` schema, after validation (rules/schema.ts)
// and with OKG's defaults applied. Shared by the decider, the agent's plan handling and the CLI.

/** A value OKG types as `intstr.IntOrString`: a number, or a string that may hold a template. */
export type IntOrString = number | string;

export interface ServiceQualityAction {
  readonly state: boolean;
  /** Empty or absent: any result matches. */
  readonly result?: string;
  readonly opsState?: string;
  readonly updatePriority?: IntOrString;
  readonly deletionPriority?: IntOrString;
  readonly networkDisabled?: boolean;
  readonly containers?: readonly GameServerContainer[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface GameServerContainer {
  readonly name: string;
  readonly image?: string;
}

export interface HttpHeader {
  readonly name: string;
  readonly value: string;
}

/** A probe handler as the user wrote it: ports may still be names. */
export type ProbeHandlerSpec =
  | { readonly kind: 'exec'; readonly command: readonly string[] }
  | {
      readonly kind: 'httpGet';
      readonly path: string;
      readonly port: number | string;
      readonly scheme: 'HTTP' | 'HTTPS';
      readonly headers: readonly HttpHeader[];
    }
  | { readonly kind: 'tcpSocket'; readonly port: number | string }
  | { readonly kind: 'grpc'; readonly port: number; readonly service: string };

/** A probe handler ready to run: named ports resolved to numbers. */
export type ProbeHandler =
  | { readonly kind: 'exec'; readonly command: readonly string[] }
  | {
      readonly kind: 'httpGet';
      readonly path: string;
      readonly port: number;
      readonly scheme: 'HTTP' | 'HTTPS';
      readonly headers: readonly HttpHeader[];
    }
  | { readonly kind: 'tcpSocket'; readonly port: number }
  | { readonly kind: 'grpc'; readonly port: number; readonly service: string };

/** Probe timing with OKG's defaults applied to zero or missing fields (common/okg-defaults.ts). */
export interface ProbeTiming {
  readonly initialDelaySeconds: number;
  readonly timeoutSeconds: number;
  readonly periodSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export interface ServiceQuality {
  readonly name: string;
  /** Empty: the pod's first container. */
  readonly containerName: string;
  readonly handler: ProbeHandlerSpec;
  readonly timing: ProbeTiming;
  readonly permanent: boolean;
  readonly actions: readonly ServiceQualityAction[];
}
