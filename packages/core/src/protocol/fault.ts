/**
 * A field that cannot be encoded or decoded. It is thrown from deep inside a
 * frame and each enclosing field prepends its name on the way out, so the
 * happy path does no path bookkeeping at all. Never escapes the codec.
 */
export class Fault {
  readonly path: (string | number)[] = [];
  constructor(readonly reason: string) {}
}

/** Rethrow helper: records that `error` happened inside field or element `step`. */
export function within(error: unknown, step: string | number): unknown {
  if (error instanceof Fault) error.path.unshift(step);
  return error;
}

/** `push.mutations[3].name: <reason>` */
export function describeFault(messageName: string, fault: Fault): string {
  let where = messageName;
  for (const step of fault.path) where += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return `${where}: ${fault.reason}`;
}
