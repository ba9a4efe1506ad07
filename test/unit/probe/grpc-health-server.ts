// A real grpc-js server with grpc.health.v1.Health/Check, for the runner tests: `statuses` maps a service
// name to its ServingStatus; a service not in it answers NOT_FOUND.
import { Server, ServerCredentials, status, type ServiceDefinition, type UntypedHandleCall } from '@grpc/grpc-js';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../../common/runners/grpc-runner.js';

export async function startHealthServer(statuses: Readonly<Record<string, number>>): Promise<{ server: Server; port: number }> {
  const definition: ServiceDefinition = {
    Check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: { service: string }) => encodeHealthCheckRequest(v.service),
      // An object, as a protobuf decoder gives (grpc-js treats a falsy request as none).
      requestDeserialize: (b: Buffer) => ({ service: b.length === 0 ? '' : b.subarray(2).toString('utf8') }),
      responseSerialize: (v: number) => Buffer.from([0x08, v]),
      responseDeserialize: (b: Buffer) => decodeHealthCheckResponse(b),
    },
  };
  const server = new Server();
  server.addService(definition, {
    Check: ((call: { request: { service: string } }, callback: (err: unknown, value?: number) => void) => {
      const s = statuses[call.request.service];
      if (s === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
      else callback(null, s);
    }) as unknown as UntypedHandleCall,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}
