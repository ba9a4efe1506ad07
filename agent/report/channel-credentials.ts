// How the agent reaches the decider: TLS trusting only the chart's CA (with an optional server name
// override, for addressing the decider by IP or a name not in its certificate), or plaintext only when
// OKGSQ_INSECURE_GRPC=true.
import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';

export type DeciderTls = { readonly caFile: string; readonly serverName: string } | 'insecure';

export function channelCredentials(tls: DeciderTls): { creds: ChannelCredentials; channelOptions: Record<string, string> } {
  if (tls === 'insecure') return { creds: credentials.createInsecure(), channelOptions: {} };
  let ca: Buffer;
  try {
    ca = readFileSync(tls.caFile);
  } catch (err) {
    throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `OKGSQ_TLS_CA_FILE=${JSON.stringify(tls.caFile)}: cannot read it`, { cause: err });
  }
  const name = tls.serverName;
  return {
    creds: credentials.createSsl(ca),
    channelOptions: name ? { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name } : {},
  };
}
