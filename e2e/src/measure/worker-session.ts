import type { Browser, CDPSession } from 'playwright-core';

/**
 * A CDP session on the demo's SharedWorker, which playwright-core does not
 * expose: attached from the browser session (not flattened), with messages
 * carried by Target.sendMessageToTarget.
 */
export class WorkerSession {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(
    private readonly browserSession: CDPSession,
    private readonly sessionId: string,
  ) {
    browserSession.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
      if (event.sessionId !== this.sessionId) return;
      const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
      const call = message.id === undefined ? undefined : this.waiting.get(message.id);
      if (!call) return;
      this.waiting.delete(message.id!);
      if (message.error) call.reject(new Error(message.error.message));
      else call.resolve(message.result);
    });
  }

  send(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    const result = new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    void this.browserSession.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    return result;
  }

  async evaluate(expression: string): Promise<unknown> {
    const { result } = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as { result: { value: unknown } };
    return result.value;
  }

  async detach(): Promise<void> {
    await this.browserSession.send('Target.detachFromTarget', { sessionId: this.sessionId }).catch(() => {});
    await this.browserSession.detach().catch(() => {});
  }
}

/** Attaches to the browser's one SharedWorker, if it runs. */
export async function attachSharedWorker(browser: Browser): Promise<WorkerSession | undefined> {
  const session = await browser.newBrowserCDPSession();
  const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string }> };
  const target = targetInfos.find((t) => t.type === 'shared_worker');
  if (!target) {
    await session.detach();
    return undefined;
  }
  const { sessionId } = (await session.send('Target.attachToTarget', { targetId: target.targetId, flatten: false })) as { sessionId: string };
  return new WorkerSession(session, sessionId);
}
