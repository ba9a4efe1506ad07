// A real grpc-js AgentService on 127.0.0.1 that records what agents send and answers with a plan:
// the decider's side of the stream, reduced to what the reporter tests look at.
import { readFileSync } from 'node:fs';
import { Metadata, Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { AgentServiceService, type AgentMessage, type DeciderMessage, type OutcomeBatch, type PlanUpdate } from '../../../proto/gen/okgsq/v1/agent.js';

export interface StubConnection {
  readonly authorization: string;
  readonly messages: AgentMessage[];
  readonly stream: ServerDuplexStream<AgentMessage, DeciderMessage>;
}

export class AgentServiceStub {
  readonly connections: StubConnection[] = [];
  /** Plan messages sent after each Hello. */
  plan: Omit<PlanUpdate, 'generation'>[] = [];
  /** When set, every stream is ended with this status after Hello. */
  refuseWith: status | undefined;
  /** The next this-many streams are refused at once as a standby decider does (UNAVAILABLE, okgsq-leader: false). */
  refuseAsStandby = 0;
  /** When each stream arrived (Date.now()). */
  readonly arrivals: number[] = [];
  #server: Server | undefined;
  port = 0;

  async start(port = 0, tls?: { certFile: string; keyFile: string }): Promise<number> {
    const server = new Server();
    server.addService(AgentServiceService, {
      connect: (stream: ServerDuplexStream<AgentMessage, DeciderMessage>) => {
        const conn: StubConnection = { authorization: String(stream.metadata.get('authorization')[0] ?? ''), messages: [], stream };
        this.connections.push(conn);
        this.arrivals.push(Date.now());
        if (this.refuseAsStandby > 0) {
          this.refuseAsStandby--;
          const trailers = new Metadata();
          trailers.set('okgsq-leader', 'false');
          stream.emit('error', { code: status.UNAVAILABLE, details: 'not the leader: stub standby', metadata: trailers });
          return;
        }
        let generation = 0;
        stream.on('data', (msg: AgentMessage) => {
          conn.messages.push(msg);
          if (msg.body?.$case !== 'hello') return;
          if (this.refuseWith !== undefined) {
            stream.emit('error', { code: this.refuseWith, details: 'refused by the stub' });
            return;
          }
          for (const update of this.plan) stream.write({ body: { $case: 'plan', value: { ...update, generation: ++generation } } });
        });
        stream.on('end', () => stream.end());
        stream.on('error', () => {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${port}`,
        tls
          ? ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], false)
          : ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    this.#server = server;
    return this.port;
  }

  /** Drops every connection at once, like a crashed decider. */
  kill(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  batches(conn: StubConnection | undefined = this.connections.at(-1)): OutcomeBatch[] {
    return (conn?.messages ?? []).flatMap((m) => (m.body?.$case === 'outcomes' ? [m.body.value] : []));
  }

  helloOf(conn: StubConnection): AgentMessage['body'] | undefined {
    return conn.messages[0]?.body;
  }
}
