import WebSocket from 'ws';
import { decodeServerMessage, type WelcomeMessage } from '@quire/core/protocol';
import { helloFrame } from './fuzz-frames.js';
import { waitFor } from './wait-for.js';

/**
 * A full client that reads every commit of a document, and then learns each
 * client's rejections (client, seq → code) the way that client would after a
 * reconnect: the server sends a client's rejections to it alone, and again
 * in the welcome of a hello whose fromSeq is at or below them.
 */
export class RejectionObserver {
  readonly rejections = new Map<string, Map<number, string>>();
  lsn = 0;
  commits = 0;
  closed: { code: number; reason: string } | undefined;
  readonly problems: string[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      try {
        const message = decodeServerMessage(data);
        if (message.type === 'snapshot' && message.done) this.lsn = message.lsn;
        if (message.type === 'commit') {
          if (message.baseLsn !== this.lsn) this.problems.push(`commit ${message.baseLsn}->${message.lsn} does not follow LSN ${this.lsn}`);
          this.lsn = message.lsn;
          this.commits++;
        }
        if (message.type === 'rejections') this.problems.push(`the observer got rejections of ${message.rejections.map((r) => r.clientId).join(', ')}: only a client's own go to it`);
        if (message.type === 'error') this.problems.push(`error frame ${message.code}: ${message.message}`);
      } catch (error) {
        this.problems.push(`undecodable frame: ${String(error)}`);
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => {});
  }

  static async open(url: string, docId: string, clientId = 'fuzz-observer'): Promise<RejectionObserver> {
    const ws = new WebSocket(`${url}/?doc=${encodeURIComponent(docId)}`, { perMessageDeflate: false });
    const observer = new RejectionObserver(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(helloFrame(clientId));
    await waitFor(() => observer.lsn > 0 || observer.commits > 0, 'the observer to receive its snapshot', 10_000);
    return observer;
  }

  /** Asks the server, as each of `clientIds` in turn, for all of its rejections (welcome with fromSeq 1). */
  async collect(url: string, docId: string, clientIds: Iterable<string>): Promise<void> {
    for (const clientId of clientIds) {
      const ws = new WebSocket(`${url}/?doc=${encodeURIComponent(docId)}`, { perMessageDeflate: false });
      const welcome = new Promise<WelcomeMessage>((resolve, reject) => {
        ws.on('message', (data: Buffer) => {
          const message = decodeServerMessage(data);
          if (message.type === 'welcome') resolve(message);
          else if (message.type === 'error') reject(new Error(`hello as ${clientId}: ${message.code}: ${message.message}`));
        });
        ws.once('error', reject);
        ws.once('close', () => reject(new Error(`hello as ${clientId}: closed before the welcome`)));
      });
      ws.once('open', () => ws.send(helloFrame(clientId, { fromSeq: 1, lastLsn: this.lsn })));
      try {
        const forClient = new Map<number, string>();
        for (const r of (await welcome).rejections) {
          if (r.clientId !== clientId) this.problems.push(`${clientId} was told of a rejection of ${r.clientId}`);
          forClient.set(r.seq, r.code);
        }
        if (forClient.size > 0) this.rejections.set(clientId, forClient);
      } finally {
        ws.terminate();
      }
    }
  }

  /** Waits until it has seen every commit up to `lsn`. */
  async reach(lsn: number): Promise<void> {
    await waitFor(() => this.lsn >= lsn || this.closed !== undefined, `the observer to reach LSN ${lsn} (at ${this.lsn})`);
    if (this.closed) throw new Error(`the observer was disconnected: ${JSON.stringify(this.closed)}`);
  }

  close(): void {
    this.ws.close(1000);
  }
}
