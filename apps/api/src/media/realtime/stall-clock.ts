/**
 * "The model owes us something by then": a deadline that every audio delta pushes back and that
 * almost never fires. Re-arming a timer per delta costs a timer and a closure each time (tens per
 * second per call); here a push is a clock read, and the one timer, when it fires early, sleeps
 * again until the current deadline.
 */
export class StallClock {
  private timer?: NodeJS.Timeout;
  /** When the model's silence becomes a failure (performance.now() time). */
  private deadline = 0;
  /** When the armed timer fires; a deadline earlier than this needs a new timer. */
  private firesAt = 0;
  private what = '';
  private budgetMs = 0;
  private readonly onTimer = () => this.check();

  constructor(private readonly expired: (what: string, budgetMs: number) => void) {}

  /** Starts the clock for `what` unless it runs; `restart` moves a running clock to `budgetMs` from now. */
  expect(what: string, budgetMs: number, restart = false): void {
    if (this.timer && !restart) return;
    this.what = what;
    this.budgetMs = budgetMs;
    this.deadline = performance.now() + budgetMs;
    if (this.timer && this.deadline >= this.firesAt) return;
    clearTimeout(this.timer);
    this.arm(budgetMs);
  }

  /** The model delivered: no deadline. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.firesAt = performance.now() + ms;
    this.timer = setTimeout(this.onTimer, ms);
  }

  private check(): void {
    const left = this.deadline - performance.now();
    // Timers may fire a hair early; anything under a millisecond counts as due.
    if (left > 1) return this.arm(left);
    this.timer = undefined;
    this.expired(this.what, this.budgetMs);
  }
}
