import { FAULT_POINTS, SimWorld, type SimOptions, type WorldStats } from './sim-world.js';

/** Most calls a client has waiting for the server before the scheduler stops adding more. */
const MAX_PENDING = 6;

export interface ScheduleResult {
  violations: string[];
  /** What happened, one line per step, for a human reading a failure. */
  trace: string[];
  stats: WorldStats;
}

interface Action {
  weight: number;
  run(aux: number): Promise<string | void> | string | void;
  /** A quiescent point: heal the world and check every invariant. */
  check?: true;
}

/**
 * Runs one schedule. Each decision picks one of the actions the world
 * allows at that moment (weighted; the rest of the number parameterises it),
 * after the world has settled from the previous one. Shrinking the list of
 * decisions shrinks the schedule. The world is healed and checked at every
 * `check` decision and at the end.
 */
export async function runSchedule(decisions: readonly number[], seed: number, options: SimOptions = {}): Promise<ScheduleResult> {
  // One world at a time (fake timers are global): a run that a time limit
  // stopped waiting for still finishes first.
  const previous = running;
  let done!: () => void;
  running = new Promise<void>((resolve) => (done = resolve));
  await previous;
  try {
    return await runIn(decisions, seed, options);
  } finally {
    done();
  }
}

let running: Promise<void> = Promise.resolve();

async function runIn(decisions: readonly number[], seed: number, options: SimOptions): Promise<ScheduleResult> {
  const world = await SimWorld.create(seed, options);
  const violations: string[] = [];
  try {
    for (const decision of decisions) {
      await world.settle();
      const actions = enabledActions(world);
      const total = actions.reduce((sum, a) => sum + a.weight, 0);
      let at = decision % total;
      const action = actions.find((a) => (at -= a.weight) < 0)!;
      const line = await action.run(Math.floor(decision / total));
      if (line) world.log(line);
      if (action.check) {
        violations.push(...(await world.check()));
        if (violations.length > 0) break;
      }
    }
    if (violations.length === 0) violations.push(...(await world.check()));
  } catch (error) {
    violations.push(`the simulation threw: ${(error as Error)?.stack ?? String(error)}`);
  } finally {
    await world.dispose();
  }
  return { violations, trace: world.trace, stats: world.stats };
}

function enabledActions(world: SimWorld): Action[] {
  const actions: Action[] = [];
  for (const { link, direction } of world.network.busy()) {
    const name = `${link.owner}#${link.id} ${direction}`;
    actions.push({
      weight: 12,
      run: () => {
        const chunk = link.queued[direction][0];
        link.deliver(direction);
        return `deliver ${chunk ? `${chunk.length} bytes` : 'end'} on ${name}`;
      },
    });
    const size = link.queued[direction][0]?.length ?? 0;
    if (size > 1) {
      actions.push({
        weight: 2,
        run: (aux) => {
          const bytes = 1 + (aux % (size - 1));
          link.deliver(direction, bytes);
          return `deliver ${bytes} of ${size} bytes on ${name}`;
        },
      });
    }
  }
  for (const link of world.network.links) {
    if (link.closed) continue;
    actions.push({
      weight: 1,
      run: () => {
        const owner = world.clients.find((c) => c.name === link.owner);
        if (owner && owner.client.status().pending > 0) world.stats.resendsForced++;
        world.stats.cuts++;
        link.cut();
        return `cut ${link.owner}#${link.id} (${link.queued.up.length + link.queued.down.length} chunks dropped)`;
      },
    });
  }
  for (const c of world.clients) {
    if (c.client.status().pending >= MAX_PENDING) continue;
    if (c.role === 'todo') {
      actions.push({ weight: 4, run: (aux) => world.mutateTodo(c, aux) });
      continue;
    }
    actions.push({ weight: 3, run: (aux) => world.mutate(c, 'transfer', aux) });
    actions.push({ weight: 2, run: (aux) => world.mutate(c, 'append', aux) });
  }
  if (world.timers > 0) actions.push({ weight: 3, run: () => world.tick() });
  // A held append: the schedule goes on for a while (clients get its commits), then the server dies with it.
  const held = world.held;
  if (held) actions.push({ weight: 2, run: () => held.crash() });
  actions.push({ weight: 1, run: (aux) => world.restartClient(world.clients[aux % world.clients.length]!) });
  if (world.server) {
    if (!world.armed) {
      actions.push({ weight: 1, run: (aux) => world.crashServer('anytime', 1, aux % 2 === 1) });
      actions.push({
        weight: 2,
        run: (aux) => {
          const point = FAULT_POINTS[aux % FAULT_POINTS.length]!;
          const fraction = (Math.floor(aux / FAULT_POINTS.length) % 11) / 10;
          const hang = Math.floor(aux / (FAULT_POINTS.length * 11)) % 2 === 1;
          world.armed = { point, fraction, hang };
          return `arm a server crash at ${point}${point === 'checkpoint' ? ` (${fraction * 100}% checkpointed)` : ''}`;
        },
      });
    }
  } else {
    actions.push({ weight: 20, run: () => world.restartServer() });
  }
  actions.push({ weight: 1, run: () => {}, check: true });
  return actions;
}
