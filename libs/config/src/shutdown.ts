/**
 * Bounds a graceful shutdown. Nest's shutdown hooks close the app on SIGTERM (HTTP server
 * first, then BullMQ workers, which let active jobs finish, then Redis and Postgres
 * clients); if that takes longer than `timeoutMs`, exit anyway so an orchestrator's restart
 * is never blocked by one stuck job.
 */
export function boundShutdown(timeoutMs: number, log: (message: string) => void): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log(`${signal} received: shutting down (at most ${timeoutMs} ms)`);
      setTimeout(() => {
        log(`graceful shutdown timed out: exiting (still open: ${process.getActiveResourcesInfo().join(', ')})`);
        process.exit(1);
      }, timeoutMs).unref();
    });
  }
}
