/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL that cuts a connection at a chosen point of
 * the protocol: when the client sends a query whose text matches (a simple query, or the Parse of one
 * with parameters), either before forwarding it or after forwarding it and receiving the server's
 * answer (which the client then never gets).
 */
import net from 'node:net';

export type CutPoint = 'before-sending' | 'after-answer';

export interface CutRule {
  /** Matches the text of a query ('Q' or 'P' message), e.g. /^COMMIT$/. */
  readonly query: RegExp;
  readonly at: CutPoint;
}

export interface FaultProxy {
  readonly port: number;
  /** The rule applied from now on (each connection is cut at most once); undefined forwards everything. */
  cut(rule: CutRule | undefined): void;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

const QUERY_MESSAGE = 0x51; // 'Q': the query text
const PARSE_MESSAGE = 0x50; // 'P': a statement name, then the query text

/** Query texts of the complete messages in `chunk` (the startup packet has no type byte and is skipped). */
function queryTexts(chunk: Buffer, startupSeen: boolean): string[] {
  const texts: string[] = [];
  let offset = startupSeen ? 0 : chunk.readInt32BE(0);
  while (offset + 5 <= chunk.length) {
    const type = chunk[offset];
    const end = offset + 1 + chunk.readInt32BE(offset + 1);
    if ((type === QUERY_MESSAGE || type === PARSE_MESSAGE) && end <= chunk.length) {
      const fields = chunk.toString('utf8', offset + 5, end).split('\0');
      texts.push(type === QUERY_MESSAGE ? fields[0] : fields[1]);
    }
    offset = end;
  }
  return texts;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let rule: CutRule | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let startupSeen = false;
    let cutAfterAnswer = false;
    const cutBoth = () => {
      cuts += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      const matched = rule !== undefined && queryTexts(chunk, startupSeen).some((q) => rule?.query.test(q));
      startupSeen = true;
      if (matched && rule?.at === 'before-sending') return cutBoth();
      if (matched) cutAfterAnswer = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cutAfterAnswer) return cutBoth();
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: (next) => {
      rule = next;
    },
    get cuts() {
      return cuts;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
