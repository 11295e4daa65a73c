import { join } from 'node:path';
import WebSocket from 'ws';
import { decodeServerMessage } from '@quire/core/protocol';
import { FileCommitLog } from '@quire/server';
import { helloFrame } from './fuzz-frames.js';
import { waitFor } from './wait-for.js';

/**
 * A full client that reads every commit of a document, and then each
 * rejection (client, seq → code) from the document's commit log: the server
 * sends a client's rejections to that client alone, so no observer sees them
 * all on the wire.
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
          if (message.lsn - message.span !== this.lsn) this.problems.push(`commit ${message.lsn - message.span}->${message.lsn} does not follow LSN ${this.lsn}`);
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

  /**
   * Reads every rejection from the document's commits (the server must not
   * compact them: a checkpoint keeps only the newest rejections). Only while
   * the server is idle (nothing is being appended): a second reader of the
   * file would cut what looks like a torn tail.
   */
  async collect(dataDir: string, docId: string): Promise<void> {
    const log = new FileCommitLog(join(dataDir, docId));
    try {
      const { firstLsn } = await log.open();
      if (firstLsn > 1) this.problems.push(`the log was compacted (it starts at LSN ${firstLsn}): rejections before it cannot be checked`);
      for await (const commit of log.readAfter(firstLsn - 1)) {
        for (const r of commit.rejections) {
          if (r.seq === 0) continue;
          let forClient = this.rejections.get(r.clientId);
          if (!forClient) this.rejections.set(r.clientId, (forClient = new Map()));
          if (forClient.has(r.seq)) this.problems.push(`${r.clientId} seq ${r.seq} rejected twice`);
          forClient.set(r.seq, r.code);
        }
      }
    } finally {
      await log.close();
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
