/**
 * Operator CLI: `npm run cli -- apikey create --name ops --scope read [--scope write]`,
 * `apikey list`, `apikey revoke <id|prefix>`, `twilio numbers`, `twilio configure-number …`.
 *
 * tsx runs this without decorator metadata, so Nest's DI cannot be bootstrapped here: the few
 * objects needed are constructed by hand from the same classes the api uses.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '#libs/config';
import { ApiKeysRepository, PrismaService } from '#libs/database';
import { TwilioNumbers } from '#libs/telephony';
import { runTwilio, TWILIO_USAGE, TwilioUsageError } from './cli/twilio.js';
import { isScope, SCOPES, type Scope } from '../apps/api/src/admin/auth/api-key-secret.js';
import { ApiKeysService } from '../apps/api/src/admin/keys/api-keys.service.js';
import type { ApiKeyDto } from '../apps/api/src/admin/dto/api-key.dto.js';

const USAGE = `usage:
  npm run cli -- apikey create --name <name> --scope <${SCOPES.join('|')}> [--scope …]
  npm run cli -- apikey list
  npm run cli -- apikey revoke <id or prefix>
${TWILIO_USAGE}`;

class UsageError extends Error {}

function parseScopes(values: string[]): Scope[] {
  const scopes = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const bad = scopes.filter((s) => !isScope(s));
  if (bad.length) throw new UsageError(`unknown scope(s): ${bad.join(', ')} (expected ${SCOPES.join(', ')})`);
  if (scopes.length === 0) throw new UsageError('at least one --scope is required');
  return scopes as Scope[];
}

function row(k: ApiKeyDto): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt}` : 'active';
  return [k.id, k.prefix, k.name, k.scopes.join(','), `created ${k.createdAt}`, `last used ${k.lastUsedAt ?? 'never'}`, state].join('  ');
}

async function run(argv: string[], keys: ApiKeysService): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group !== 'apikey') throw new UsageError(USAGE);
  switch (command) {
    case 'create': {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } }, strict: true });
      if (!values.name || !/^[A-Za-z0-9 ._-]{1,64}$/.test(values.name)) throw new UsageError('--name is required (1 to 64 letters, digits, spaces, . _ -)');
      const created = await keys.create(values.name, parseScopes(values.scope ?? []));
      process.stdout.write(`${row(created)}\n\nAPI key (shown only now, store it safely):\n${created.key}\n`);
      return;
    }
    case 'list': {
      parseArgs({ args: rest, options: {}, strict: true });
      const all = await keys.list();
      process.stdout.write(all.length ? `${all.map(row).join('\n')}\n` : 'no API keys\n');
      return;
    }
    case 'revoke': {
      const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
      if (positionals.length !== 1) throw new UsageError('revoke takes one key id or prefix');
      process.stdout.write(`${row(await keys.revoke(positionals[0]))}\n`);
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function main(): Promise<number> {
  const config = loadConfig();
  if (process.argv[2] === 'twilio') {
    await runTwilio(process.argv.slice(3), new TwilioNumbers(config), (text) => process.stdout.write(text));
    return 0;
  }
  const prisma = new PrismaService(config);
  try {
    await run(process.argv.slice(2), new ApiKeysService(new ApiKeysRepository(prisma)));
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || err instanceof TwilioUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const known = usage || err instanceof ConfigError || (err as Error).name === 'ApiKeyNotFoundError' || (err as Error).name === 'TwilioNumberError';
    process.stderr.write(`${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
    process.exit(usage ? 2 : 1);
  },
);
