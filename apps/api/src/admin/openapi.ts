import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AdminModule } from './admin.module.js';
import { ErrorDto } from './dto/error.dto.js';

/** Where the spec is served; docs/openapi.json is its committed copy (a test compares them). */
export const OPENAPI_JSON_PATH = '/docs/json';

/**
 * The admin API's OpenAPI document. Only AdminModule is scanned: Twilio webhooks, media
 * sockets and health are not part of the operator API (and are excluded on their own too).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('switchboard operator API')
    .setDescription(
      'Query and search call transcripts, watch live calls, place outbound calls and erase transcripts. ' +
        'Authenticate with `Authorization: Bearer <API key>`; keys carry the scopes read, write and admin.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (npm run cli -- apikey create) or ADMIN_API_KEY.' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { include: [AdminModule], extraModels: [ErrorDto] });
  // Every error answer has the one shape AdminExceptionFilter produces.
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      const responses = (operation as { responses?: Record<string, { content?: unknown }> }).responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400 && !response.content) response.content = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorDto' } } };
      }
    }
  }
  return document;
}

/** Serves Swagger UI at /docs and the JSON at /docs/json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1), yamlDocumentUrl: 'docs/yaml' });
}
