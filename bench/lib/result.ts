/** One line of bench/results/latest.json. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The same quantity for a peer or physical limit, measured in the same run. */
  baseline: number | null;
  /** value / baseline. */
  ratio: number | null;
}

export function result(name: string, value: number, unit: string, baseline?: number): BenchResult {
  const base = baseline ?? null;
  return { name, value: round(value), unit, baseline: base === null ? null : round(base), ratio: base ? round(value / base) : null };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
