import { Body, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../admin-controller.decorator.js';
import type { Scope } from '../auth/api-key-secret.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { ApiKeyDto, ApiKeyIdParams, CreateApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto.js';
import { ApiKeysService } from './api-keys.service.js';

@AdminController('keys', 'keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @RequireScope('admin')
  @ApiOperation({ summary: 'API keys (never the keys themselves).' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  list(): Promise<ApiKeyDto[]> {
    return this.keys.list();
  }

  @Post()
  @RequireScope('admin')
  @ApiOperation({ summary: 'Create a key; the response is the only time the key is shown.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(body.name, body.scopes as Scope[]);
  }

  @Delete(':id')
  @RequireScope('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key; it is refused from the next request on.' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'Unknown key.' })
  revoke(@Param() params: ApiKeyIdParams): Promise<ApiKeyDto> {
    return this.keys.revoke(params.id);
  }
}
