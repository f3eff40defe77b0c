/** One figure produced by a benchmark, in a shape a bench runner can aggregate. */
export interface BenchResult {
  /** What was measured, e.g. `codec stateless encode+decode (small message)`. */
  readonly name: string;
  readonly value: number;
  /** Unit of `value`, e.g. `msg/s`. */
  readonly unit: string;
  /** Name of the result this one is compared with, when there is one. */
  readonly baseline?: string;
  /** `value / baseline value`. */
  readonly ratio?: number;
}
