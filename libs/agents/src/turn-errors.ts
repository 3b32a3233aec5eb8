/**
 * Why a turn stopped early. Both are set as the abort reason of the turn's signal, so a provider
 * that sees its signal abort rethrows `signal.reason` and the caller can tell the two apart.
 */

/** The api asked to abort the turn (the caller hung up or interrupted). Never retried. */
export class TurnCancelledError extends Error {
  override name = 'TurnCancelledError';
  constructor(message = 'turn cancelled') {
    super(message);
  }
}

/** The turn's time budget ran out before an answer was ready. Never retried: the caller has moved on. */
export class TurnBudgetExceededError extends Error {
  override name = 'TurnBudgetExceededError';
  constructor(budgetMs: number) {
    super(`turn budget of ${budgetMs} ms exceeded`);
  }
}

/** The abort reason of `signal` as an Error (what a provider rethrows once its signal aborts). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new TurnCancelledError(String(reason ?? 'aborted'));
}
