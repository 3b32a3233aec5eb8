import { Injectable } from '@nestjs/common';
import type { ApiKey } from './generated/client.js';
import { PrismaService } from './prisma.service.js';

export interface NewApiKeyRecord {
  name: string;
  /** First characters of the key, kept so listings can tell keys apart. */
  prefix: string;
  /** SHA-256 (hex) of the whole key; the key itself is never stored. */
  hash: string;
  scopes: string[];
}

/** Operator API keys: stored as hashes, revoked rather than deleted so the audit trail keeps its names. */
@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(key: NewApiKeyRecord): Promise<ApiKey> {
    return this.prisma.apiKey.create({ data: key });
  }

  findByHash(hash: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { hash } });
  }

  list(): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /** Revokes the key with this id or prefix; returns the revoked key, or null if none matched. */
  async revoke(idOrPrefix: string, at = new Date()): Promise<ApiKey | null> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
    const key = await this.prisma.apiKey.findFirst({ where: isUuid ? { id: idOrPrefix } : { prefix: idOrPrefix } });
    if (!key) return null;
    if (key.revokedAt) return key;
    return this.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: at } });
  }

  /**
   * Records a use of the key. Written at most once a minute per key: a busy key would
   * otherwise turn every read request into a row update.
   */
  async touch(id: string, at = new Date()): Promise<void> {
    await this.prisma.apiKey.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at.getTime() - 60_000) } }] },
      data: { lastUsedAt: at },
    });
  }
}
