import type { Fleet } from './fleet.js';
import type { ServerChild } from './servers.js';

/** What one timed `load` over a fleet took: wall time, the server's CPU, and each client process's share of a core. */
export interface TimedLoad {
  ms: number;
  serverCpuMs: number;
  /** e.g. "62%, 66%": each client process's CPU over the wall time. */
  clientCpu: string;
}

/** Every fleet client sends `perClient` addTodo calls, `window` in flight; timed, with the server's and the clients' CPU. */
export async function timedLoad(server: ServerChild, fleet: Fleet, perClient: number, window: number): Promise<TimedLoad> {
  const cpu0 = await server.cpu();
  const fleetCpu0 = await fleet.all<NodeJS.CpuUsage>('cpu');
  const start = performance.now();
  await fleet.all('load', { count: perClient, window, tag: 'm' }, 600_000);
  const ms = performance.now() - start;
  const cpu = await server.cpu();
  const fleetCpu = await fleet.all<NodeJS.CpuUsage>('cpu');
  const used = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;
  const clientCpu = fleetCpu.map((c, i) => `${Math.round((used(fleetCpu0[i]!, c) / ms) * 100)}%`).join(', ');
  return { ms, serverCpuMs: used(cpu0, cpu), clientCpu };
}
