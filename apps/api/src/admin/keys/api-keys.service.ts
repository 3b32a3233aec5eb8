import { Injectable } from '@nestjs/common';
import { ApiKeysRepository, type ApiKey } from '#libs/database';
import { ApiKeyNotFoundError } from '../admin-errors.js';
import { generateApiKey, type Scope } from '../auth/api-key-secret.js';
import type { ApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto.js';

export function toApiKeyDto(k: ApiKey): ApiKeyDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

/** Key management, shared by the admin routes and the CLI (which builds it without Nest's DI). */
@Injectable()
export class ApiKeysService {
  constructor(private readonly keys: ApiKeysRepository) {}

  async create(name: string, scopes: Scope[]): Promise<CreatedApiKeyDto> {
    const { key, prefix, hash } = generateApiKey();
    const stored = await this.keys.create({ name, prefix, hash, scopes: [...new Set(scopes)] });
    return { ...toApiKeyDto(stored), key };
  }

  async list(): Promise<ApiKeyDto[]> {
    return (await this.keys.list()).map(toApiKeyDto);
  }

  /** Revokes by id or prefix; revoking twice is harmless. */
  async revoke(idOrPrefix: string): Promise<ApiKeyDto> {
    const key = await this.keys.revoke(idOrPrefix);
    if (!key) throw new ApiKeyNotFoundError(`API key ${idOrPrefix} not found`);
    return toApiKeyDto(key);
  }
}
