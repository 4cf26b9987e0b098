/**
 * How many examples an inline answer (serve/inline-model.ts) may run on the HTTP thread. The
 * probe measures one example's run; a request's cost on that thread grows with its examples, and
 * a body's byte limit does not bound them for images (a few hundred bytes make a JPEG, and each one
 * is resized to the model's full input and run). So the HTTP-thread copy runs at most as many
 * examples as fit the budget, and hands a larger request back, before decoding or running it, to
 * the workers, which answer it as they answer everything else (same answer; deadline enforced there).
 */

/** Thrown by the tensor paths when a request has more examples than the inline copy may run; the pool then sends it to the workers. */
export class InlineLimitExceeded extends Error {
  readonly examples: number;
  readonly limit: number;

  constructor(examples: number, limit: number) {
    super(`the request has ${examples} examples; the HTTP thread runs at most ${limit}`);
    this.name = 'InlineLimitExceeded';
    this.examples = examples;
    this.limit = limit;
  }
}

/**
 * Throws {@link InlineLimitExceeded} when `examples` is over `limit` (no limit: never).
 *
 * @example
 * checkInlineExamples(images.length, limits.maxExamples); // before decoding them
 */
export function checkInlineExamples(examples: number, limit: number | undefined): void {
  if (limit !== undefined && examples > limit) throw new InlineLimitExceeded(examples, limit);
}

/**
 * The examples an inline copy may run per request: as many probe runs as fit the budget, at least one.
 *
 * @example
 * inlineExamples(0.64, 1); // 1
 * inlineExamples(0.1, 1); // 10
 */
export function inlineExamples(probeMs: number, budgetMs: number): number {
  return Math.max(1, Math.floor(budgetMs / Math.max(probeMs, 0.001)));
}
