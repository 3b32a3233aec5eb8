import { timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { ApiKeysRepository } from '#libs/database';
import { hashApiKey, isScope, SCOPES } from './api-key-secret.js';
import type { Principal } from './principal.js';

const BOOTSTRAP: Principal = { keyId: 'bootstrap', name: 'ADMIN_API_KEY', scopes: SCOPES };

/** Resolves a bearer key to its principal: the bootstrap key from the environment, or a stored key. */
@Injectable()
export class ApiKeyAuthService {
  private readonly logger = new Logger(ApiKeyAuthService.name);
  private readonly bootstrapHash?: Buffer;

  constructor(
    config: AppConfig,
    private readonly keys: ApiKeysRepository,
  ) {
    if (config.ADMIN_API_KEY) this.bootstrapHash = Buffer.from(hashApiKey(config.ADMIN_API_KEY), 'hex');
  }

  /** The principal of a key, or null when it is unknown or revoked. */
  async authenticate(key: string): Promise<Principal | null> {
    const hash = hashApiKey(key);
    // Comparing hashes in constant time: the bootstrap key is not in the database to look up.
    if (this.bootstrapHash && timingSafeEqual(this.bootstrapHash, Buffer.from(hash, 'hex'))) return BOOTSTRAP;
    const stored = await this.keys.findByHash(hash);
    if (!stored || stored.revokedAt) return null;
    this.keys.touch(stored.id).catch((err: Error) => this.logger.warn({ keyId: stored.id, err: err.message }, 'could not record key use'));
    return { keyId: stored.id, name: stored.name, scopes: stored.scopes.filter(isScope) };
  }
}
