import { AppConfig, boundShutdown, ConfigError } from '#libs/config';
import { createWorker } from './create-worker.js';

async function main(): Promise<void> {
  const app = await createWorker();
  const config = app.get(AppConfig);
  boundShutdown(config.SHUTDOWN_TIMEOUT_MS, (message) => process.stderr.write(`${message}\n`));
  await app.listen(config.WORKER_PORT, '0.0.0.0');
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`worker failed to start: ${message}\n`);
  process.exit(1);
});
