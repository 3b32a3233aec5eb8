import { AppConfig, boundShutdown, ConfigError } from '#libs/config';
import { createApi } from './create-api.js';

async function main(): Promise<void> {
  const app = await createApi();
  const config = app.get(AppConfig);
  boundShutdown(config.SHUTDOWN_TIMEOUT_MS, (message) => process.stderr.write(`${message}\n`));
  // Twilio gives up on a webhook after 15 s; no request of ours should outlive that.
  app.getHttpServer().requestTimeout = 20_000;
  await app.listen(config.PORT, '0.0.0.0');
}

main().catch((err: unknown) => {
  // Configuration errors name the variable; print them plainly and exit non-zero.
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`api failed to start: ${message}\n`);
  process.exit(1);
});
