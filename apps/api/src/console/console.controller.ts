import { Controller, Get, Header, NotFoundException, Param, ServiceUnavailableException, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsoleFiles } from './console-files.js';

/**
 * Same-origin only, no inline script or style, no framing: a key typed into the console can only
 * go to this api. The console talks to /admin/* with fetch.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Serves the operator console built by `npm run build` (dist/console) at /console. A plain
 * controller returning StreamableFile, so it works the same under the Express or Fastify adapter.
 * The page itself holds no data: everything comes from the admin API with the operator's key.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly files = new ConsoleFiles();

  @Get()
  @Header('Cache-Control', 'no-cache')
  @Header('Content-Security-Policy', CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Frame-Options', 'DENY')
  index(): StreamableFile {
    const file = this.files.index();
    if (!file) throw new ServiceUnavailableException('the console is not built: run `npm run build`');
    return new StreamableFile(file.body, { type: file.type, length: file.body.length });
  }

  /** Hashed file names: cached for a year, immutable. */
  @Get('assets/:name')
  @Header('Cache-Control', 'public, max-age=31536000, immutable')
  @Header('X-Content-Type-Options', 'nosniff')
  asset(@Param('name') name: string): StreamableFile {
    const file = this.files.asset(name);
    if (!file) throw new NotFoundException();
    return new StreamableFile(file.body, { type: file.type, length: file.body.length });
  }
}
